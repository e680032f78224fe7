package examples_test

import (
	"crypto/sha256"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestMultiProviderGateway runs the multi-provider example with the fake
// upstreams in place of the providers: strangers never reach a provider,
// and each provider gets the gateway's own key, never the caller's.
func TestMultiProviderGateway(t *testing.T) {
	openai, anthropic := fakeai.Start(t), fakeai.Start(t)
	site := testcaddy.Site(t)
	t.Setenv("GATEWAY_KEY_TEAM_A", "gw-team-a-secret")
	t.Setenv("GATEWAY_KEY_TEAM_B", "gw-team-b-secret")
	t.Setenv("OPENAI_API_KEY", "sk-proj-operator")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-api03-operator")
	loadExample(t, "multi-provider",
		"api.example.com", site,
		"https://api.openai.com", openai.URL(),
		"https://api.anthropic.com", anthropic.URL(),
	)

	answer := func(body string, header ...string) *http.Response {
		t.Helper()
		resp, _ := harness.Post(t, site+"/v1/chat/completions", body, header...)
		return resp
	}
	send := func(body string, header ...string) int {
		t.Helper()
		return answer(body, header...).StatusCode
	}
	gpt := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	claude := `{"model":"claude-3-5-haiku-latest","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	for _, h := range [][]string{
		nil,
		{"Authorization", "Bearer sk-proj-stolen"},
		{"Authorization", "Bearer "},
		{"X-Api-Key", ""},
		{"X-Api-Key", "gw-team-a"},
		{"Authorization", "gw-team-a-secret"},
		// A good key with more beside it: it would key a bucket of its own.
		{"Authorization", "Bearer gw-team-a-secret", "X-Api-Key", "fresh-bucket-1"},
		{"Authorization", "Bearer gw-team-a-secret", "Authorization", "Bearer fresh-bucket-2"},
		{"X-Api-Key", "gw-team-b-secret", "X-Api-Key", "fresh-bucket-3"},
	} {
		if s := send(gpt, h...); s != http.StatusUnauthorized {
			t.Errorf("stranger %q: %d, want 401", h, s)
		}
	}
	if openai.Calls()+anthropic.Calls() != 0 {
		t.Fatalf("a stranger reached a provider")
	}

	if s := send(gpt, "Authorization", "Bearer gw-team-a-secret"); s != 200 {
		t.Fatalf("team A: %d", s)
	}
	if s := send(claude, "X-Api-Key", "gw-team-b-secret"); s != 200 {
		t.Fatalf("team B: %d", s)
	}
	o, a := openai.Requests(), anthropic.Requests()
	if len(o) != 1 || len(a) != 1 {
		t.Fatalf("calls: openai %d, anthropic %d", len(o), len(a))
	}
	if got := o[0].Header.Get("Authorization"); got != "Bearer sk-proj-operator" || o[0].Header.Get("X-Api-Key") != "" {
		t.Errorf("openai got Authorization %q, X-Api-Key %q", got, o[0].Header.Get("X-Api-Key"))
	}
	if got := a[0].Header.Get("X-Api-Key"); got != "sk-ant-api03-operator" || a[0].Header.Get("Authorization") != "" {
		t.Errorf("anthropic got X-Api-Key %q, Authorization %q", got, a[0].Header.Get("Authorization"))
	}

	// The limits count the team, whatever else its requests carry.
	remaining := func(extra string) string {
		t.Helper()
		resp := answer(gpt, "Authorization", "Bearer gw-team-a-secret", "X-Extra", extra)
		if resp.StatusCode != 200 {
			t.Fatalf("team A with X-Extra %q: %d", extra, resp.StatusCode)
		}
		return resp.Header.Get("X-Ratelimit-Remaining-Requests")
	}
	if r1, r2 := remaining("one"), remaining("two"); r1 != "118" || r2 != "117" {
		t.Errorf("team A's remaining requests %q then %q, want 118 then 117: one bucket for the team", r1, r2)
	}

	// A multimodal request far over 1 MiB goes to its own provider, with
	// that provider's key, byte for byte.
	image := `{"model":"claude-3-5-sonnet-latest","max_tokens":5,"messages":[{"role":"user","content":[` +
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + strings.Repeat("iVBORw0K", 1100<<7) + `"}}]}]}`
	openai.Reset()
	anthropic.Reset()
	if s := send(image, "X-Api-Key", "gw-team-b-secret"); s != 200 || anthropic.Calls() != 1 || openai.Calls() != 0 {
		t.Fatalf("1.1 MB claude request: %d; anthropic %d calls, openai %d", s, anthropic.Calls(), openai.Calls())
	}
	if got := anthropic.Requests()[0]; sha256.Sum256(got.Body) != sha256.Sum256([]byte(image)) || got.Header.Get("X-Api-Key") != "sk-ant-api03-operator" {
		t.Errorf("anthropic got %d bytes with X-Api-Key %q", len(got.Body), got.Header.Get("X-Api-Key"))
	}
	// A request whose model cannot be read reaches no provider.
	for _, body := range []string{"model=claude-3", `{"messages":[]}`, `{"model":"claude-3",`} {
		if s := send(body, "Authorization", "Bearer gw-team-a-secret"); s != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", body, s)
		}
	}
	if openai.Calls()+anthropic.Calls() != 1 {
		t.Errorf("a request without a readable model reached a provider")
	}

	// Without every provider key and every gateway key, the config does
	// not load.
	b, err := os.ReadFile(filepath.Join("multi-provider", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"OPENAI_API_KEY", "GATEWAY_KEY_TEAM_B"} {
		t.Setenv(env, "")
		if err := testcaddy.LoadErr(testcaddy.Example(strings.ReplaceAll(string(b), "api.example.com", site))); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("with %s unset the config loads: %v", env, err)
		}
	}
}
