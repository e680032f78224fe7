package llmgate_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/testcaddy"
)

// modelSite routes claude-* models to one fake upstream with Anthropic
// auth and everything else to another with OpenAI auth, as a gateway that
// holds the provider keys does.
func modelSite(t *testing.T, extra string) (site string, openai, anthropic *fakeai.Server) {
	t.Helper()
	openai, anthropic = fakeai.New(), fakeai.New()
	t.Cleanup(openai.Close)
	t.Cleanup(anthropic.Close)
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

func TestModelZoneLimitsOnlyItsModels(t *testing.T) {
	// Beside a default zone that every request counts in.
	port := fmt.Sprint(testcaddy.FreePort(t))
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

func TestModelMatcherPassesBodiesUntouched(t *testing.T) {
	site, openai, anthropic := modelSite(t, "llm_cache")
	openai.SetRecordLimit(1)
	// 10 MiB: over the matcher's 1 MiB read, so no match, and it must
	// reach the upstream whole.
	big := `{"model":"claude-3","messages":[{"role":"user","content":"` + strings.Repeat("x", 10<<20) + `"}]}`
	for _, body := range []string{big, "\x00\x01 not json {", ""} {
		openai.Reset()
		resp, _ := post(t, site+"/v1/chat/completions", body)
		if resp.StatusCode == 0 || openai.Calls() != 1 || anthropic.Calls() != 0 {
			t.Fatalf("%d-byte body: openai %d calls, anthropic %d", len(body), openai.Calls(), anthropic.Calls())
		}
		if got := openai.Requests()[0].Body; !bytes.Equal(got, []byte(body)) {
			t.Fatalf("%d-byte body arrived as %d bytes", len(body), len(got))
		}
	}
}
