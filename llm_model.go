package llmgate

import (
	"errors"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/llmreq"
)

// MatchModel matches requests by the `model` of their JSON body, against
// glob patterns ('*' any run, '?' one character), ignoring case. A request
// without a JSON body, without a model, or with a body larger than 1MiB
// does not match. The body is read once per request, however many
// matchers and handlers look at it, and stays intact for the upstream.
type MatchModel []string

// CaddyModule returns the Caddy module information.
func (MatchModel) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.matchers.llm_model",
		New: func() caddy.Module { return new(MatchModel) },
	}
}

// Validate checks that there is a pattern to match.
func (m MatchModel) Validate() error {
	if len(m) == 0 {
		return errors.New("llm_model: no model pattern")
	}
	return nil
}

// Match implements caddyhttp.RequestMatcher.
func (m MatchModel) Match(r *http.Request) bool {
	ok, _ := m.MatchWithError(r)
	return ok
}

// MatchWithError implements caddyhttp.RequestMatcherWithError. A body that
// cannot be read (the client went away) is no match, not an error: the
// handler that next reads it reports that.
func (m MatchModel) MatchWithError(r *http.Request) (bool, error) {
	q, err := bodyMemo(r).Inspect(r, cache.DefaultMaxBody)
	if err != nil || q.Model == "" {
		return false, nil
	}
	for _, p := range m {
		if llmreq.MatchModel(p, q.Model) {
			return true, nil
		}
	}
	return false, nil
}

// memoVar is the request variable holding the body memo.
const memoVar = "llmgate.body"

// bodyMemo returns the memo of r's body, made on first use. It lives in
// the request's variables, which every matcher and handler of the request
// shares (matchers cannot hand a new context on).
func bodyMemo(r *http.Request) *llmreq.Memo {
	if m, ok := caddyhttp.GetVar(r.Context(), memoVar).(*llmreq.Memo); ok {
		return m
	}
	m := new(llmreq.Memo)
	caddyhttp.SetVar(r.Context(), memoVar, m)
	return m
}

// withBodyMemo returns r carrying its body memo in its context, where the
// libraries look for it.
func withBodyMemo(r *http.Request) *http.Request {
	if llmreq.FromContext(r.Context()) != nil {
		return r
	}
	return r.WithContext(llmreq.NewContext(r.Context(), bodyMemo(r)))
}

// UnmarshalCaddyfile sets up the matcher from Caddyfile tokens. Syntax:
//
//	llm_model <pattern...>
func (m *MatchModel) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	// Several llm_model lines of one named matcher are concatenated.
	for d.Next() {
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.Errf("llm_model: missing model pattern")
		}
		*m = append(*m, args...)
		if d.NextBlock(0) {
			return d.Err("llm_model: takes no block")
		}
	}
	return nil
}

// Interface guards
var (
	_ caddyhttp.RequestMatcherWithError = (*MatchModel)(nil)
	_ caddy.Validator                   = (*MatchModel)(nil)
	_ caddyfile.Unmarshaler             = (*MatchModel)(nil)
)
