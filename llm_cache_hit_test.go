package llmgate_test

import (
	"strings"
	"testing"
)

// TestCacheHitPlaceholdersAndRequestID: a hit sets {http.llm.usage.*}
// from the usage its stored answer reports (JSON and stream), and carries
// a request id of llmgate's own, new on every replay.
func TestCacheHitPlaceholdersAndRequestID(t *testing.T) {
	site, _ := proxySite(t, `	header {
		defer
		X-Usage "{http.llm.cache} {http.llm.usage.prompt_tokens} {http.llm.usage.completion_tokens} {http.llm.usage.total_tokens}"
	}
	llm_cache`)
	for _, tc := range []struct{ name, body string }{
		{"json", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hit usage"}]}`},
		{"stream", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hit usage"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			post(t, site+"/v1/chat/completions", tc.body, "x-fake-usage", "30,12")
			ids := map[string]bool{}
			for i := range 2 {
				resp, body := post(t, site+"/v1/chat/completions", tc.body)
				if got := resp.Header.Get("X-Usage"); got != "hit 30 12 42" {
					t.Errorf("hit %d: usage placeholders %q, want \"hit 30 12 42\" (%s)", i, got, body)
				}
				id := resp.Header.Get("X-Request-Id")
				if !strings.HasPrefix(id, "llmgate-") || ids[id] {
					t.Errorf("hit %d: request id %q (seen: %v)", i, id, ids)
				}
				ids[id] = true
			}
		})
	}
}
