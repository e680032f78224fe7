package examples_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestOpenAIExampleKeysOnTheCaller runs the openai example with the fake
// upstream in place of OpenAI: one caller's key, however it is spelt,
// fills one bucket, and a request with two keys is refused uncounted.
func TestOpenAIExampleKeysOnTheCaller(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	// The example's per-caller rate refills once a minute, so the burst
	// of 10 is all a caller has while the test runs, however slow the
	// machine.
	loadExample(t, "openai",
		"requests 60/m", "requests 60/h",
		"api.example.com", site,
		"https://api.openai.com", up.URL(),
	)

	// Limits outlive a config: the keys are the site's own.
	key := "sk-proj-example-caller-" + site
	send := func(i int, header ...string) int {
		t.Helper()
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"question %d"}]}`, i)
		resp, _ := harness.Post(t, site+"/v1/chat/completions", body, header...)
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
	if s := send(20, "Authorization", "Bearer sk-proj-another-caller-"+site); s != 200 {
		t.Fatalf("another caller: %d", s)
	}
}
