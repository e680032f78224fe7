package llmgate

import (
	"net/http"
	"slices"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// The placeholders llmgate's handlers set, for headers, log_append and
// access logs.
const (
	// phModel is the JSON body's model, when a handler or matcher read it.
	phModel = "http.llm.model"
	// phCache is what llm_cache did: hit, miss or bypass.
	phCache = "http.llm.cache"
	// phZone is the llm_ratelimit zone that refused the request.
	phZone = "http.llm.ratelimit.zone"
	// phUsage starts the token usage of the answer: prompt_tokens,
	// completion_tokens, total_tokens.
	phUsage = "http.llm.usage."
)

// placeholdersVar marks a request whose replacer knows llmgate's
// placeholders.
const placeholdersVar = "llmgate.placeholders"

// withPlaceholders makes {http.llm.model} available for r. The model is
// looked up when the placeholder is used (often in the access log, after
// the handlers ran), from the body read that some handler or matcher made:
// it never reads the body itself.
func withPlaceholders(r *http.Request) {
	if caddyhttp.GetVar(r.Context(), placeholdersVar) != nil {
		return
	}
	caddyhttp.SetVar(r.Context(), placeholdersVar, true)
	memo := bodyMemo(r)
	replacer(r).Map(func(key string) (any, bool) {
		if key != phModel {
			return nil, false
		}
		if q := memo.Known(); q != nil {
			return q.Model, true
		}
		return "", true
	})
}

func replacer(r *http.Request) *caddy.Replacer {
	return r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
}

// reportLimit sets the placeholders and counts the metrics of a rate-limit
// decision.
func reportLimit(r *http.Request, rep limiter.Report) {
	repl := replacer(r)
	if t := rep.Ticket; t != nil {
		if !t.Allowed {
			repl.Set(phZone, t.Zone)
			counter(limitDecisions, t.Zone, "refused").Inc()
		} else {
			sts := t.Statuses()
			for i, st := range sts {
				// A zone has a status per limit: count it once.
				if !slices.ContainsFunc(sts[:i], func(o limiter.Status) bool { return o.Zone == st.Zone }) {
					counter(limitDecisions, st.Zone, "allowed").Inc()
				}
			}
		}
	}
	if u := rep.Usage; u.Total > 0 {
		repl.Set(phUsage+"prompt_tokens", u.Input)
		repl.Set(phUsage+"completion_tokens", u.Output)
		repl.Set(phUsage+"total_tokens", u.Total)
		source := "estimated"
		if rep.Exact {
			source = "reported"
		}
		// The model the upstream says served the answer: a caller can
		// name any model it likes, but not make the upstream answer
		// with it.
		model := modelLabel(u.Model)
		counter(tokensTotal, model, "prompt", source).Add(float64(u.Input))
		counter(tokensTotal, model, "completion", source).Add(float64(u.Output))
	}
}
