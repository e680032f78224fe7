package llmgate

import (
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// bodyProbe is a handler for tests only: placed after llmgate's matchers
// and handlers, it reports whether the body had already been parsed, and
// whether its own look at the body, through the request's memo, found
// that same parse.
type bodyProbe struct{}

func (bodyProbe) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.llmgate_test_probe", New: func() caddy.Module { return new(bodyProbe) }}
}

func (bodyProbe) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	memo := &state(r).body
	parsed := memo.Parsed() != nil
	q, err := memo.Inspect(r, 1<<20)
	w.Header().Set("X-Parsed-Before", strconv.FormatBool(parsed))
	w.Header().Set("X-Same-Parse", strconv.FormatBool(err == nil && parsed && q == memo.Parsed()))
	return next.ServeHTTP(w, r)
}

func init() {
	caddy.RegisterModule(bodyProbe{})
	httpcaddyfile.RegisterHandlerDirective("llmgate_test_probe", func(httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		return bodyProbe{}, nil
	})
}
