package llmgate

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/units"
)

// MatchModel matches requests by the `model` of their JSON body, against
// glob patterns ('*' any run, '?' one character), ignoring case. The body
// is read once per request, however many matchers and handlers look at
// it, and stays intact for the upstream; it is scanned for its top-level
// model without being parsed whole, up to MaxBody.
//
// A request whose model cannot be read (a body over MaxBody, one that is
// not JSON or cannot be read, no top-level model, a model that is not a
// string or is empty) matches no pattern. It matches `unknown`, so that a
// gateway routing by model refuses it rather than sending it, with the
// credential of the last route, to a provider it was not meant for.
type MatchModel struct {
	// Patterns are the model globs to match.
	Patterns []string `json:"patterns,omitempty"`
	// Unknown also matches requests whose model cannot be read.
	Unknown bool `json:"unknown,omitempty"`
	// MaxBody is the largest body read to find the model; the body is
	// held in memory while the request is routed. Give every llm_model
	// matcher of a site the same bound. Default: 32MiB.
	MaxBody units.Size `json:"max_body,omitempty"`
}

// DefaultModelMaxBody is the default of MatchModel.MaxBody.
const DefaultModelMaxBody = 32 << 20

// CaddyModule returns the Caddy module information.
func (MatchModel) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.matchers.llm_model",
		New: func() caddy.Module { return new(MatchModel) },
	}
}

// UnmarshalJSON reads the matcher's object, or a list of patterns: the
// form of earlier versions.
func (m *MatchModel) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		*m = MatchModel{}
		return json.Unmarshal(b, &m.Patterns)
	}
	type plain MatchModel // without this method
	return json.Unmarshal(b, (*plain)(m))
}

// Validate checks that there is something to match.
func (m MatchModel) Validate() error {
	switch {
	case len(m.Patterns) == 0 && !m.Unknown:
		return errors.New("llm_model: no model pattern")
	case m.MaxBody < 0:
		return errors.New("llm_model: max_body must not be negative")
	}
	return nil
}

// Match implements caddyhttp.RequestMatcher.
func (m MatchModel) Match(r *http.Request) bool {
	ok, _ := m.MatchWithError(r)
	return ok
}

// MatchWithError implements caddyhttp.RequestMatcherWithError. A body that
// cannot be read (the client went away) is an unknown model, not an error:
// the handler that next reads it reports that.
func (m MatchModel) MatchWithError(r *http.Request) (bool, error) {
	limit := int64(m.MaxBody)
	if limit == 0 {
		limit = DefaultModelMaxBody
	}
	f, err := bodyMemo(r).Fields(r, limit)
	if err != nil || f.Model == "" {
		return m.Unknown, nil
	}
	for _, p := range m.Patterns {
		if llmreq.MatchModel(p, f.Model) {
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
//	llm_model [<pattern...>] [unknown] {
//		max_body <size>
//	}
//
// The word unknown matches requests whose model cannot be read (write
// unknow? for a model of that name). Several llm_model lines of one named
// matcher add up.
func (m *MatchModel) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	for d.Next() {
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.Errf("llm_model: missing model pattern (or unknown)")
		}
		for _, a := range args {
			if a == "unknown" {
				m.Unknown = true
				continue
			}
			m.Patterns = append(m.Patterns, a)
		}
		for nesting := d.Nesting(); d.NextBlock(nesting); {
			if d.Val() != "max_body" {
				return d.Errf("llm_model: unknown option %q", d.Val())
			}
			if m.MaxBody != 0 {
				return d.Err("llm_model: max_body already specified")
			}
			if !d.NextArg() {
				return d.ArgErr()
			}
			n, err := units.ParseSize(d.Val())
			if err != nil || n <= 0 {
				return d.Errf("llm_model: max_body: want a positive size such as 64MiB, got %q", d.Val())
			}
			m.MaxBody = units.Size(n)
			if d.NextArg() {
				return d.ArgErr()
			}
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
