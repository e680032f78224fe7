package examples_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestLocalGateway runs the "Try it locally" example with the fake upstream
// in place of OpenAI (over plain HTTP, as every test site): only the
// gateway key gets through, OpenAI sees the operator's key instead of it,
// and a repeated request is answered from the cache.
func TestLocalGateway(t *testing.T) {
	openai := fakeai.Start(t)
	site := testcaddy.Site(t)
	t.Setenv("GATEWAY_KEY", "gw-local-secret")
	t.Setenv("OPENAI_API_KEY", "sk-proj-operator")
	loadExample(t, "local",
		"localhost:8443", site,
		"\ttls internal\n", "",
		"https://api.openai.com", openai.URL(),
	)

	gpt := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	for _, h := range [][]string{
		nil,
		{"Authorization", "Bearer sk-proj-operator"},
		{"Authorization", "Bearer gw-local-wrong"},
		{"X-Api-Key", "gw-local-secret", "Authorization", "Bearer other"},
	} {
		if resp, _ := harness.Post(t, site+"/v1/chat/completions", gpt, h...); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("stranger %q: %d, want 401", h, resp.StatusCode)
		}
	}
	if openai.Calls() != 0 {
		t.Fatal("a stranger reached OpenAI")
	}

	for i, want := range []string{"fwd=miss", "hit"} {
		resp, body := harness.Post(t, site+"/v1/chat/completions", gpt, "Authorization", "Bearer gw-local-secret")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Status"), want) {
			t.Fatalf("request %d: %d, Cache-Status %q, want %q: %s", i+1, resp.StatusCode, resp.Header.Get("Cache-Status"), want, body)
		}
	}
	reqs := openai.Requests()
	if len(reqs) != 1 {
		t.Fatalf("OpenAI called %d times, want 1", len(reqs))
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer sk-proj-operator" {
		t.Errorf("OpenAI got Authorization %q, want the operator's key", got)
	}
}
