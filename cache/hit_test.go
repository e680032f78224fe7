package cache

import (
	"net/http"
	"strings"
	"testing"
)

// TestHitKeepsDescribingHeaders: a hit replays the upstream headers that
// describe the answer, and none of those of the operator's account or of
// the call that made it; its request id is its own.
func TestHitKeepsDescribingHeaders(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Openai-Version", "2020-10-01")
		h.Set("Content-Language", "en")
		h.Set("Openai-Organization", "org-secret")
		h.Set("Openai-Project", "proj_1")
		h.Set("Openai-Processing-Ms", "321")
		h.Set("X-Request-Id", "req_upstream")
		h.Set("X-Ratelimit-Remaining-Requests", "99")
		h.Set("Set-Cookie", "__cf_bm=1")
		_, _ = w.Write([]byte(`{"id":"chatcmpl-1","choices":[]}`))
	})
	srv, _ := serve(t, Config{}, next)
	miss, _, err := fetch(t, srv.URL, jsonBody)
	if err != nil || miss.Header.Get("X-Request-Id") != "req_upstream" {
		t.Fatalf("miss: %v, %v", miss.Header, err)
	}
	hit, _, err := fetch(t, srv.URL, jsonBody)
	if err != nil || !strings.HasPrefix(hit.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Fatalf("not a hit: %v, %v", hit.Header, err)
	}
	for k, want := range map[string]string{
		"Openai-Version":                 "2020-10-01",
		"Content-Language":               "en",
		"Openai-Organization":            "",
		"Openai-Project":                 "",
		"Openai-Processing-Ms":           "",
		"X-Ratelimit-Remaining-Requests": "",
		"Set-Cookie":                     "",
	} {
		if got := hit.Header.Get(k); got != want {
			t.Errorf("hit %s = %q, want %q", k, got, want)
		}
	}
	if id := hit.Header.Get("X-Request-Id"); !strings.HasPrefix(id, "llmgate-") {
		t.Errorf("hit request id %q", id)
	}
}
