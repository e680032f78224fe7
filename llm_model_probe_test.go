package llmgate_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/llmreq"
)

// bodyProbe is a handler for tests only: placed after llmgate's matchers
// and handlers, it reports whether the body had already been parsed, and
// whether its own look at the body found that same parse.
type bodyProbe struct{}

func (bodyProbe) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.llmgate_test_probe", New: func() caddy.Module { return new(bodyProbe) }}
}

func (bodyProbe) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	memo := llmreq.FromContext(r.Context())
	parsed := memo != nil && memo.Parsed() != nil
	q, err := llmreq.Inspect(r, 1<<20)
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

// TestModelBodyParsedOnce: two llm_model matchers, a rate-limit zone
// matching on the model with a token limit, and the cache all look at the
// body; it is parsed once, and a later handler finds that parse.
func TestModelBodyParsedOnce(t *testing.T) {
	site, _, _ := modelSite(t, `route {
		@big llm_model gpt-4*
		@small llm_model *mini
		header @big X-Big 1
		header @small X-Small 1
		llm_ratelimit {
			zone probe {
				match llm_model gpt-4*
				requests 100/m
				tokens 100000/m
			}
		}
		llm_cache
		llmgate_test_probe
	}`)
	resp, _ := post(t, site+"/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"once"}]}`)
	for h, want := range map[string]string{"X-Big": "1", "X-Small": "1", "X-Parsed-Before": "true", "X-Same-Parse": "true"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("X-Ratelimit-Limit-Tokens") != "100000" {
		t.Error("the model zone did not apply")
	}
}
