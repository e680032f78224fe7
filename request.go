package llmgate

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/keyring"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
	"github.com/llmgate/caddy-llmgate/provider"
	"github.com/llmgate/caddy-llmgate/sse"
	"github.com/llmgate/caddy-llmgate/usage"
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
	// phCost is what the answer cost in USD, when a cost zone applied.
	phCost = "http.llm.cost"
	// phProviderKey and phProviderTries are the provider key of the last
	// attempt (its fingerprint) and the attempts llm_provider made.
	phProviderKey   = "http.llm.provider.key"
	phProviderTries = "http.llm.provider.tries"
	// phTeam, phTier and phKeyID are who llm_auth proved the caller to be.
	phTeam  = "http.llm.team"
	phTier  = "http.llm.tier"
	phKeyID = "http.llm.key_id"
)

// requestState is what llmgate's matchers and handlers know of one
// request and share.
type requestState struct {
	// body is the memo of the request body, read once however many
	// matchers and handlers look at it.
	body llmreq.Memo
	// cache is what llm_cache did with the request.
	cache cache.Result
	// placeholders is set once the request's replacer knows llmgate's
	// placeholders.
	placeholders bool
	// hitUsage is the usage of the stored answer a hit served, read from
	// it when a placeholder first asks.
	hitUsage *usage.Usage
	// limit is what llm_ratelimit published of its decision (see
	// publishLimit).
	limit limitPlaceholders
}

// limitPlaceholders are the values of a rate-limit decision's
// placeholders, each known only once set. They are kept here and looked
// up when used, rather than set on the replacer: that would box every
// count and make the replacer's map, for placeholders most requests never
// read.
type limitPlaceholders struct {
	zone    string // the zone that refused
	refused bool
	usage   usage.Usage // set when usage.Total > 0
	cost    pricing.Micros
	priced  bool
}

// stateVar is the request variable holding the requestState.
const stateVar = "llmgate"

// state returns r's state, made on first use. It lives in the request's
// variables, which every matcher and handler of the request shares
// (matchers cannot hand a new context on).
func state(r *http.Request) *requestState {
	if s, ok := caddyhttp.GetVar(r.Context(), stateVar).(*requestState); ok {
		return s
	}
	s := new(requestState)
	caddyhttp.SetVar(r.Context(), stateVar, s)
	return s
}

// bodyMemo returns the memo of r's body, read once however many of
// llmgate's matchers and handlers look at it: the libraries' Memo hook.
func bodyMemo(r *http.Request) *llmreq.Memo { return &state(r).body }

// withRedisBudget gives r the Redis time budget that every handler's
// stores share (see redisclient.WithBudget): with llm_ratelimit and
// llm_cache both on a stalled Redis, a request waits command_timeout in
// all, not command_timeout in each.
func withRedisBudget(r *http.Request) *http.Request {
	ctx := redisclient.WithBudget(r.Context())
	if ctx == r.Context() {
		return r
	}
	return r.WithContext(ctx)
}

func replacer(r *http.Request) *caddy.Replacer {
	return r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
}

// withPlaceholders makes {http.llm.model} and {http.llm.cache} available
// for r, {http.llm.usage.*} on a cache hit, and those llm_ratelimit
// publishes once it has decided. They are looked up when used (often in
// the access log, after the handlers ran, or in a deferred header as the
// answer starts): the model from the body read some handler or matcher
// made (it never reads the body itself), the cache's result from its
// report, a hit's usage from the stored answer it served. (The usage of
// an answer from upstream, published by llm_ratelimit's token zones,
// comes first.)
func withPlaceholders(r *http.Request) {
	s := state(r)
	if s.placeholders {
		return
	}
	s.placeholders = true
	replacer(r).Map(func(key string) (any, bool) {
		switch key {
		case phModel:
			if q := s.body.Known(); q != nil {
				return q.Model, true
			}
			return "", true
		case phCache:
			return cachePlaceholder(s.cache), true
		case phZone:
			return s.limit.zone, s.limit.refused
		case phCost:
			if !s.limit.priced {
				return nil, false
			}
			return string(s.limit.cost.AppendUSD(nil)), true
		case phUsage + "prompt_tokens", phUsage + "completion_tokens", phUsage + "total_tokens":
			u, ok := s.limit.usage, s.limit.usage.Total > 0
			if !ok {
				u, ok = s.usageOfHit()
			}
			if !ok {
				return nil, false
			}
			switch key[len(phUsage):] {
			case "prompt_tokens":
				return u.Input, true
			case "completion_tokens":
				return u.Output, true
			}
			return u.Total, true
		}
		return nil, false
	})
}

// usageOfHit returns the usage the stored answer of a hit reports.
func (s *requestState) usageOfHit() (usage.Usage, bool) {
	e := s.cache.Entry
	if s.cache.Outcome != cache.Hit || e == nil {
		return usage.Usage{}, false
	}
	if s.hitUsage == nil {
		var u usage.Usage
		if sse.MediaType(e.ContentType) == sse.ContentType {
			u, _ = usage.FromStream(e.Body)
		} else {
			u, _ = usage.FromJSON(e.Body)
		}
		s.hitUsage = &u
	}
	return *s.hitUsage, s.hitUsage.Total > 0
}

// cachePlaceholder is the value of {http.llm.cache}: a request that shared
// another's upstream call missed the cache too.
func cachePlaceholder(res cache.Result) string {
	if res.Outcome == cache.Coalesced {
		return cache.Miss.String()
	}
	return res.Outcome.String()
}

// publishLimit sets the placeholders of a rate-limit decision; those of
// an earlier decision (another llm_ratelimit) that this one does not set
// stay as they were.
func publishLimit(r *http.Request, rep limiter.Report) {
	p := &state(r).limit
	if t := rep.Ticket; t != nil && !t.Allowed {
		p.zone, p.refused = t.Zone, true
	}
	if u := rep.Usage; u.Total > 0 {
		p.usage = u
	}
	if rep.Priced {
		p.cost, p.priced = rep.Cost, true
	}
}

// publishProvider sets the placeholders of what llm_provider did.
func publishProvider(r *http.Request, rep provider.Report) {
	if rep.Key == nil {
		return
	}
	repl := replacer(r)
	repl.Set(phProviderKey, rep.Key.ID)
	repl.Set(phProviderTries, rep.Tries)
}

// publishIdentity sets the placeholders of the identity llm_auth proved.
func publishIdentity(r *http.Request, id *keyring.Identity) {
	repl := replacer(r)
	repl.Set(phTeam, id.Team)
	repl.Set(phTier, id.Tier)
	repl.Set(phKeyID, id.KeyID)
}
