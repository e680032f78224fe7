package llmgate_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	llmgate "github.com/llmgate/caddy-llmgate"
	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// modelSite routes claude-* models to one fake upstream with Anthropic
// auth and everything else to another with OpenAI auth, as a gateway that
// holds the provider keys does.
func modelSite(t *testing.T, extra string) (site string, openai, anthropic *fakeai.Server) {
	t.Helper()
	openai, anthropic = fakeai.Start(t), fakeai.Start(t)
	site = testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`
%s {
	%s
	@claude llm_model claude-*
	reverse_proxy @claude %s {
		header_up -Authorization
		header_up X-Api-Key sk-ant-api03-gateway
	}
	reverse_proxy %s {
		header_up Authorization "Bearer sk-proj-gateway"
	}
}
`, site, extra, anthropic.URL(), openai.URL()))
	return site, openai, anthropic
}

func TestModelRouting(t *testing.T) {
	site, openai, anthropic := modelSite(t, "")
	for _, tc := range []struct {
		name, path, body string
		want             *fakeai.Server
	}{
		{"openai model", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}`, openai},
		{"claude model", "/v1/messages", `{"max_tokens":5,"model":"claude-3-5-haiku-latest","messages":[{"role":"user","content":"hi"}]}`, anthropic},
		{"case folded", "/v1/messages", `{"model":"Claude-Opus-4","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, anthropic},
		{"model in a nested field only", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi","model":"claude-x"}],"model":"gpt-4o"}`, openai},
		{"no model", "/v1/chat/completions", `{"messages":[]}`, openai},
		{"not JSON", "/v1/chat/completions", `model=claude-3`, openai},
	} {
		t.Run(tc.name, func(t *testing.T) {
			openai.Reset()
			anthropic.Reset()
			post(t, site+tc.path, tc.body, "Authorization", "Bearer sk-client-key")
			if tc.want.Calls() != 1 || openai.Calls()+anthropic.Calls() != 1 {
				t.Fatalf("openai %d calls, anthropic %d calls", openai.Calls(), anthropic.Calls())
			}
			got := tc.want.Requests()[0]
			if !bytes.Equal(got.Body, []byte(tc.body)) {
				t.Errorf("body changed on the way:\n%s\n%s", got.Body, tc.body)
			}
			if tc.want == anthropic {
				if got.Header.Get("X-Api-Key") != "sk-ant-api03-gateway" || got.Header.Get("Authorization") != "" {
					t.Errorf("anthropic got Authorization %q, x-api-key %q", got.Header.Get("Authorization"), got.Header.Get("X-Api-Key"))
				}
			} else if got.Header.Get("Authorization") != "Bearer sk-proj-gateway" || got.Header.Get("X-Api-Key") != "" {
				t.Errorf("openai got Authorization %q, x-api-key %q", got.Header.Get("Authorization"), got.Header.Get("X-Api-Key"))
			}
		})
	}
}

// TestModelRoutingOnceTheNamesTableIsFull: the model names read from
// requests are kept in a table of bounded size (internal/intern); a caller
// who names a new model in every request fills it, and every request,
// before and after, still goes where its own model says.
func TestModelRoutingOnceTheNamesTableIsFull(t *testing.T) {
	site, openai, anthropic := modelSite(t, "")
	route := func(model string) {
		t.Helper()
		openai.Reset()
		anthropic.Reset()
		post(t, site+"/v1/chat/completions", `{"model":"`+model+`","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
			"Authorization", "Bearer sk-client-key")
		want, other := openai, anthropic
		if strings.HasPrefix(model, "claude-") {
			want, other = anthropic, openai
		}
		if want.Calls() != 1 || other.Calls() != 0 {
			t.Fatalf("model %q: openai %d calls, anthropic %d calls", model, openai.Calls(), anthropic.Calls())
		}
	}
	const names = 1100 // more than the table holds
	for i := range names {
		if i%2 == 0 {
			route(fmt.Sprint("claude-caller-", i))
		} else {
			route(fmt.Sprint("gpt-caller-", i))
		}
	}
	for _, model := range []string{"claude-3-5-haiku-latest", "gpt-4.1", "claude-caller-0", "gpt-caller-1", "claude-caller-1099x", "gpt-claude-1"} {
		route(model)
	}
}

func TestModelZoneLimitsOnlyItsModels(t *testing.T) {
	// Beside a default zone that every request counts in.
	port := fmt.Sprint(harness.FreePort(t))
	site, openai, _ := modelSite(t, `llm_ratelimit {
		zone gpt4_`+port+` {
			match llm_model gpt-4*
			requests 1/m
		}
		zone all_`+port+` {
			requests 100/m
		}
	}`)
	var allLeft []string
	send := func(model string) int {
		resp, _ := post(t, site+"/v1/chat/completions", `{"model":"`+model+`","messages":[]}`)
		if resp.StatusCode == 200 {
			allLeft = append(allLeft, resp.Header.Get("X-Ratelimit-Remaining-Requests"))
		}
		return resp.StatusCode
	}
	if s := send("gpt-4o"); s != 200 {
		t.Fatalf("first gpt-4o: %d", s)
	}
	if s := send("gpt-4o"); s != 429 {
		t.Fatalf("second gpt-4o: %d, want 429", s)
	}
	for range 3 {
		if s := send("gpt-3.5-turbo"); s != 200 {
			t.Fatalf("gpt-3.5-turbo is outside the zone: %d", s)
		}
	}
	if openai.Calls() != 4 {
		t.Errorf("upstream calls %d, want 4", openai.Calls())
	}
	// The gpt-4o answer shows its own zone, the tightest (0 left); the
	// others the default zone's, where every admitted request counted and
	// the refused one was given back.
	if want := []string{"0", "98", "97", "96"}; !slices.Equal(allLeft, want) {
		t.Errorf("remaining requests %v, want %v", allLeft, want)
	}
}

// imageBody is a request for model with a base64 image of about size
// bytes inline, as multimodal SDK requests carry them.
func imageBody(model string, size int) string {
	return `{"model":"` + model + `","max_tokens":5,"messages":[{"role":"user","content":[` +
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + strings.Repeat("iVBORw0K", size/8) + `"}},` +
		`{"type":"text","text":"What is in this image?"}]}]}`
}

// TestModelRoutesLargeBodies: the model of a body far over the cache's
// 1 MiB is read, so a multimodal request reaches its own provider with
// that provider's key, byte for byte; bodies whose model cannot be read
// go where a site without llm_model unknown sends them.
func TestModelRoutesLargeBodies(t *testing.T) {
	site, openai, anthropic := modelSite(t, "llm_cache")
	openai.SetRecordLimit(1)
	anthropic.SetRecordLimit(1)
	for _, tc := range []struct {
		name, body string
		want       *fakeai.Server
	}{
		{"claude with a 1.1 MB image", imageBody("claude-3-5-sonnet-latest", 1100<<10), anthropic},
		{"claude, 10 MiB, model last", `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 10<<20) + `"}],"model":"claude-3"}`, anthropic},
		{"gpt with a 1.1 MB image", imageBody("gpt-4o", 1100<<10), openai},
		{"not JSON", "\x00\x01 not json {", openai},
		{"empty", "", openai},
	} {
		t.Run(tc.name, func(t *testing.T) {
			openai.Reset()
			anthropic.Reset()
			resp, _ := post(t, site+"/v1/messages", tc.body)
			if resp.StatusCode == 0 || tc.want.Calls() != 1 || openai.Calls()+anthropic.Calls() != 1 {
				t.Fatalf("%d-byte body: openai %d calls, anthropic %d", len(tc.body), openai.Calls(), anthropic.Calls())
			}
			got := tc.want.Requests()[0]
			if sha256.Sum256(got.Body) != sha256.Sum256([]byte(tc.body)) {
				t.Fatalf("%d-byte body arrived as %d other bytes", len(tc.body), len(got.Body))
			}
			if tc.want == anthropic && (got.Header.Get("X-Api-Key") != "sk-ant-api03-gateway" || got.Header.Get("Authorization") != "") {
				t.Errorf("anthropic got Authorization %q, x-api-key %q", got.Header.Get("Authorization"), got.Header.Get("X-Api-Key"))
			}
		})
	}
}

// TestModelZoneAppliesToLargeBodies: a per-model zone counts requests
// whose body is over the cache's 1 MiB.
func TestModelZoneAppliesToLargeBodies(t *testing.T) {
	site, _, anthropic := modelSite(t, fmt.Sprintf(`llm_ratelimit {
		zone claude_%d {
			match llm_model claude-*
			requests 1/m
		}
	}`, harness.FreePort(t)))
	body := imageBody("claude-3-5-sonnet-latest", 1100<<10)
	if resp, b := post(t, site+"/v1/messages", body); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	if resp, b := post(t, site+"/v1/messages", body); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second: %d %.200s, want 429 from the claude zone", resp.StatusCode, b)
	}
	if anthropic.Calls() != 1 {
		t.Errorf("anthropic calls %d, want 1", anthropic.Calls())
	}
}

// TestModelUnknownIsRefused: `llm_model unknown` matches every request
// whose model cannot be read, however it hides it, so a site refuses it
// instead of routing it to a provider it was not meant for.
func TestModelUnknownIsRefused(t *testing.T) {
	site, openai, anthropic := modelSite(t, `@unknown llm_model unknown {
		max_body 2MiB
	}
	respond @unknown `+"`"+`{"error":{"message":"the model cannot be read","type":"invalid_request_error","param":null,"code":"model_not_found"}}`+"`"+` 400`)
	for _, body := range []string{
		imageBody("claude-3-5-sonnet-latest", 3<<20), // over max_body
		"model=claude-3",
		`{"model":"claude-3",}`,
		`{"model":"claude-3"`,
		`{"messages":[{"model":"claude-3"}]}`,
		`{"model":["claude-3"]}`,
		`{"model":""}`,
		`{"model":"claude-3","model":null}`,
		`{"model":"` + strings.Repeat("claude-", 1000) + `"}`,
		"",
		// "model" in another case: Go's encoding/json reads it, other
		// parsers do not, so no provider's reading can be trusted.
		`{"model":"claude-3","Model":"gpt-4o"}`,
		`{"MODEL":"claude-3"}`,
		`{"Mod\u0065l":"gpt-4o","model":"claude-3"}`,
		imageBody("claude-3", 1900<<10)[:1] + `"Model":"gpt-4o",` + imageBody("claude-3", 1900<<10)[1:],
	} {
		resp, b := post(t, site+"/v1/messages", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "model_not_found") {
			t.Errorf("%.60q: %d %.100s, want the 400", body, resp.StatusCode, b)
		}
	}
	if n := openai.Calls() + anthropic.Calls(); n != 0 {
		t.Fatalf("%d requests whose model cannot be read reached a provider", n)
	}
	// A model spelt with escapes, or after a duplicate, is read as the
	// provider reads it.
	for _, body := range []string{`{"mod\u0065l":"\u0063laude-3"}`, `{"model":"gpt-4o","model":"claude-3"}`, imageBody("claude-3", 1900<<10)} {
		if resp, b := post(t, site+"/v1/messages", body); resp.StatusCode != 200 {
			t.Errorf("%.60q: %d %.100s", body, resp.StatusCode, b)
		}
	}
	if anthropic.Calls() != 3 || openai.Calls() != 0 {
		t.Errorf("anthropic %d calls, openai %d; want 3 and 0", anthropic.Calls(), openai.Calls())
	}
}

// TestModelMatcherConfig: the Caddyfile forms adapt to the JSON they
// mean; the list form of earlier versions still loads; bad options fail
// at adapt time naming the line.
func TestModelMatcherConfig(t *testing.T) {
	out, err := testcaddy.Adapt(":8080 {\n\t@m llm_model claude-* unknown {\n\t\tmax_body 64MiB\n\t}\n\trespond @m 400\n}\n")
	if err != nil || !bytes.Contains(out, []byte(`"llm_model":{"patterns":["claude-*"],"unknown":true,"max_body":67108864}`)) {
		t.Errorf("adapted to %s (%v)", out, err)
	}
	for _, tc := range []struct{ cfg, want, line string }{
		{"@m llm_model claude-* {\n\t\tmax_bodies 1MiB\n\t}", `llm_model: unknown option "max_bodies"`, "Caddyfile:3"},
		{"@m llm_model claude-* {\n\t\tmax_body -1\n\t}", "llm_model: max_body", "Caddyfile:3"},
		{"@m llm_model claude-* {\n\t\tmax_body 1MiB\n\t\tmax_body 2MiB\n\t}", "llm_model: max_body already specified", "Caddyfile:4"},
		{"@m llm_model", "llm_model: missing model pattern", "Caddyfile:2"},
	} {
		_, err := testcaddy.Adapt(":8080 {\n\t" + tc.cfg + "\n\trespond @m 400\n}\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%q: %v, want an error with %q at %s", tc.cfg, err, tc.want, tc.line)
		}
	}
	var old llmgate.MatchModel
	if err := json.Unmarshal([]byte(`["gpt-4*","o1*"]`), &old); err != nil || len(old.Patterns) != 2 || old.Unknown {
		t.Errorf("the list form reads as %+v (%v)", old, err)
	}
}
