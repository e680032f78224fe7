package llmgate

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
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
	f, err := state(r).body.Fields(r, limit)
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

// UnmarshalCaddyfile sets up the matcher from Caddyfile tokens; the
// syntax is on llmcaddyfile.ParseModel.
func (m *MatchModel) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	var err error
	m.Patterns, m.Unknown, m.MaxBody, err = llmcaddyfile.ParseModel(d)
	return err
}

// Interface guards
var (
	_ caddyhttp.RequestMatcherWithError = (*MatchModel)(nil)
	_ caddy.Validator                   = (*MatchModel)(nil)
	_ caddyfile.Unmarshaler             = (*MatchModel)(nil)
)
