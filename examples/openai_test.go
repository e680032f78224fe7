package examples_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/testcaddy"
)

// TestOpenAIExampleKeysOnTheCaller runs the openai example with the fake
// upstream in place of OpenAI: one caller's key, however it is spelt,
// fills one bucket, and a request with two keys is refused uncounted.
func TestOpenAIExampleKeysOnTheCaller(t *testing.T) {
	b, err := os.ReadFile("openai/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	up := fakeai.New()
	t.Cleanup(up.Close)
	site := testcaddy.Site(t)
	// The example's own global options give way to the test harness's;
	// its per-caller rate refills once a minute, so the burst of 10 is
	// all a caller has while the test runs, however slow the machine.
	example := string(b)
	for _, s := range []string{"{\n\temail ops@example.com\n}\n", "requests 60/m"} {
		if !strings.Contains(example, s) {
			t.Fatalf("the example no longer has %q: update the test", s)
		}
	}
	cfg := strings.NewReplacer(
		"{\n\temail ops@example.com\n}\n", testcaddy.Global(""),
		"requests 60/m", "requests 60/h",
		"api.example.com", site,
		"https://api.openai.com", up.URL(),
		"/var/log/caddy/llm-access.log", filepath.Join(t.TempDir(), "access.log"),
	).Replace(example)
	testcaddy.Load(t, cfg)

	key := "sk-proj-example-caller"
	send := func(i int, header ...string) int {
		t.Helper()
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"question %d"}]}`, i)
		req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
		for j := 0; j+1 < len(header); j += 2 {
			req.Header.Add(header[j], header[j+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	spellings := [][]string{
		{"Authorization", "Bearer " + key},
		{"Authorization", "bearer " + key},
		{"Authorization", "BEARER " + key},
		{"Authorization", "Bearer  " + key},
		{"Authorization", "Bearer\t" + key},
	}
	if s := send(0, "Authorization", "Bearer "+key, "Authorization", "Bearer sk-proj-fresh-bucket"); s != http.StatusBadRequest {
		t.Fatalf("two keys: %d, want 400", s)
	}
	for i := range 10 {
		if s := send(i, spellings[i%len(spellings)]...); s != 200 {
			t.Fatalf("request %d: %d", i+1, s)
		}
	}
	for i, h := range spellings {
		if s := send(10+i, h...); s != http.StatusTooManyRequests {
			t.Fatalf("%q after the burst: %d, want 429", h, s)
		}
	}
	if s := send(20, "Authorization", "Bearer sk-proj-another-caller"); s != 200 {
		t.Fatalf("another caller: %d", s)
	}
}
