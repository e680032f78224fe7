package llmgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmgate "github.com/llmgate/caddy-llmgate"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// nopWriter is a client that takes every byte.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkServeMiss is one miss through llm_ratelimit and llm_cache as
// Caddy runs them, before an upstream that answers at once: a new 1 KiB
// prompt, a request zone and a token zone, the cache's lookup, capture
// and store. The store is filled first, as a server's is after its first
// minutes: the first pass over a store's memory costs page faults that
// a full store, which reuses its memory, never pays again.
func BenchmarkServeMiss(b *testing.B) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	limit := &llmgate.RateLimit{Config: limiter.Config{Zones: map[string]*limiter.ZoneConfig{
		"bench": {Requests: limiter.Rate{Count: 1 << 40, Per: 1 << 40}, Tokens: limiter.Rate{Count: 1 << 50, Per: 1 << 40}},
	}}}
	cache := &llmgate.Cache{StorageRaw: json.RawMessage(`{"backend":"memory","max_size":` + strconv.Itoa(missStoreSize) + `}`)}
	for _, p := range []caddy.Provisioner{limit, cache} {
		if err := p.Provision(ctx); err != nil {
			b.Fatal(err)
		}
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return cache.ServeHTTP(w, r, missUpstream)
	})
	prompt := missPrompt()
	i := 0
	serve := func() *nopWriter {
		i++
		r, w, end := newMissRequest(prompt, i)
		defer end()
		if err := limit.ServeHTTP(w, r, next); err != nil {
			b.Fatal(err)
		}
		return w
	}
	for range 3 * missStoreSize / 2 / len(missAnswer) {
		serve()
	}
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(); w.h.Get("Cache-Status") != "llmgate; fwd=miss" {
			b.Fatalf("not a miss: %v", w.h)
		}
	}
}

// BenchmarkServeMissBaseline is BenchmarkServeMiss without the handlers:
// the same request made the same way, answered by the same upstream. What
// BenchmarkServeMiss costs beyond it is the handlers' own.
func BenchmarkServeMissBaseline(b *testing.B) {
	prompt := missPrompt()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r, w, end := newMissRequest(prompt, i)
		if err := missUpstream.ServeHTTP(w, r); err != nil {
			b.Fatal(err)
		}
		end()
	}
}

// missStoreSize is the size of BenchmarkServeMiss's store, the least
// llm_cache takes, so that filling it is quick.
const missStoreSize = 32 << 20

// missAnswer is the upstream's answer to every miss.
var missAnswer = []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"` +
	strings.Repeat("Hello! How can I help? ", 55) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`)

// missUpstream answers at once, as a reverse proxy copying an OpenAI
// answer would: with OpenAI's headers, its rate-limit headers among them,
// which llm_ratelimit's replace.
var missUpstream = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	for _, kv := range missHeaders {
		h.Set(kv[0], kv[1])
	}
	h.Set("Content-Length", strconv.Itoa(len(missAnswer)))
	_, err := w.Write(missAnswer)
	return err
})

// missHeaders are the headers of an OpenAI answer, as
// internal/harness/fakeai sends them.
var missHeaders = [][2]string{
	{"Content-Type", "application/json"},
	{"X-Request-Id", "req_bench"},
	{"Openai-Organization", "org-bench"},
	{"Set-Cookie", "__cf_bm=bench; path=/; HttpOnly"},
	{"Openai-Version", "2020-10-01"},
	{"X-Ratelimit-Limit-Requests", "10000"},
	{"X-Ratelimit-Remaining-Requests", "9999"},
	{"X-Ratelimit-Reset-Requests", "6ms"},
	{"X-Ratelimit-Limit-Tokens", "30000000"},
	{"X-Ratelimit-Remaining-Tokens", "29999000"},
	{"X-Ratelimit-Reset-Tokens", "2ms"},
}

// missPrompt is a 1 KiB prompt, as a JSON string.
func missPrompt() []byte {
	prompt, _ := json.Marshal(strings.Repeat("lorem ipsum ", 85))
	return prompt
}

// newMissRequest makes the i-th request of a benchmark as Caddy's server
// hands it to its handlers, and its client: a body no earlier request
// sent. Its context ends with the request, as net/http's server makes it
// (end ends it); PrepareRequest adds a replacer with the HTTP
// placeholders and the request variables, as Caddy's server does.
func newMissRequest(prompt []byte, i int) (r *http.Request, w *nopWriter, end context.CancelFunc) {
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":` + string(prompt) + `}],"n":` + strconv.Itoa(i) + `}`)
	w = &nopWriter{h: http.Header{}}
	ctx, end := context.WithCancel(context.Background())
	r = httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer sk-bench")
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, nil), w, end
}
