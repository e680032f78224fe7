package cache

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// chatBody returns a chat request body of about n bytes.
func chatBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4o-mini","temperature":0.7,"max_tokens":512,"stream":false,"messages":[{"role":"system","content":"You are a helpful assistant.\nAnswer briefly."},{"role":"user","content":"`)
	for i := 0; b.Len() < n-8; i++ {
		fmt.Fprintf(&b, "Line %d of the question, with \\\"quotes\\\" and caf\u00e9.\\n", i)
	}
	b.WriteString(`"}]}`)
	return b.String()
}

func BenchmarkKey(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		body := []byte(chatBody(size))
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
		r.Header.Set("Authorization", "Bearer sk-test-0123456789")
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				q, err := llmreq.Parse(body)
				if err != nil {
					b.Fatal(err)
				}
				NewKey(r, llmreq.Credentials(r.Header), q, nil)
			}
		})
	}
}

// discard is a minimal ResponseWriter, so the benchmark measures the
// cache and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func BenchmarkHit(b *testing.B) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	body := chatBody(1 << 10)
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer sk-test-0123456789")
		return r
	}
	h.ServeHTTP(&discard{h: http.Header{}}, req())
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req())
		if !strings.HasPrefix(w.h.Get("Cache-Status"), "llmgate; hit") {
			b.Fatalf("not a hit: %v", w.h)
		}
	}
}
