package cache

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// TestHitKeepsTheUpstreamsHeaders: a handler around the cache that
// rewrites the answer's header values in place as it starts (as Caddy's
// header handler does with a replacement) changes its own client's
// answer, not what is stored: the hit after it gets the upstream's
// content type and headers.
func TestHitKeepsTheUpstreamsHeaders(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cached := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Openai-Version", "2020-10-01")
		h["Content-Language"] = []string{"en", "fr"}
		_, _ = w.Write([]byte(`{"id":"chatcmpl-1","choices":[]}`))
	}))
	var rewrite atomic.Bool
	rewrite.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rewrite.Load() {
			w = rewriter{w}
		}
		cached.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	miss, _, err := fetch(t, srv.URL, jsonBody)
	if err != nil || miss.Header.Get("Openai-Version") != "2020-10-01+" || miss.Header.Get("Content-Type") != "application/json+" {
		t.Fatalf("miss: %v, %v", miss.Header, err)
	}
	rewrite.Store(false)
	hit, _, err := fetch(t, srv.URL, jsonBody)
	if err != nil || !strings.HasPrefix(hit.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Fatalf("not a hit: %v, %v", hit.Header, err)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Openai-Version": "2020-10-01", "Content-Language": "en,fr"} {
		if got := strings.Join(hit.Header.Values(k), ","); got != want {
			t.Errorf("hit %s = %q, want %q", k, got, want)
		}
	}
}
