package cache

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
				cred, err := llmreq.Credential(r)
				if err != nil {
					b.Fatal(err)
				}
				NewKey(r, cred, q, nil)
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

// FlushError makes discard flushable, like a real client connection.
func (d *discard) FlushError() error { return nil }

// newBenchCache returns a cache of the default config, closed when the
// benchmark ends.
func newBenchCache(b *testing.B) *Cache {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c
}

func BenchmarkHit(b *testing.B) {
	c := newBenchCache(b)
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	benchHits(b, h, chatBody(1<<10))
}

// benchHits sends body through h once, so that its answer is stored, then
// measures the hits on it.
func benchHits(b *testing.B, h http.Handler, body string) {
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

// BenchmarkMiss is the cache's whole miss path: read, canonicalise and
// hash a new 1 KiB prompt, look it up, forward, capture and store a
// 1.4 KiB answer.
func BenchmarkMiss(b *testing.B) {
	c := newBenchCache(b)
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("Hello! How can I help? ", 55) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	}))
	body := chatBody(1 << 10)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		i++
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(strings.Replace(body, "Line 0", "Line "+strconv.Itoa(i), 1)))
		r.Header.Set("Authorization", "Bearer sk-test-0123456789")
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, r)
		if w.h.Get("Cache-Status") != "llmgate; fwd=miss" {
			b.Fatalf("not a stored miss: %v", w.h)
		}
	}
}

// streamAnswer is a 200-event chat stream as an upstream writes it.
func streamAnswer() [][]byte {
	evs := chatEvents(199)
	out := make([][]byte, len(evs))
	for i, ev := range evs {
		out[i] = []byte(ev)
	}
	return out
}

func totalLen(evs [][]byte) (n int64) {
	for _, ev := range evs {
		n += int64(len(ev))
	}
	return n
}

// BenchmarkStreamCapture is the cost of passing a 200-event stream through
// the capture (tee to the client, copy kept, events watched for the end),
// written and flushed event by event as a reverse proxy does.
func BenchmarkStreamCapture(b *testing.B) {
	evs := streamAnswer()
	b.SetBytes(totalLen(evs))
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{h: http.Header{"Content-Type": {"text/event-stream"}}}
		cw := &capture{ResponseWriter: w, f: newFlight(DefaultMaxResponse, false), max: DefaultMaxResponse, room: -1, fwd: fwdMiss}
		cw.WriteHeader(http.StatusOK)
		for _, ev := range evs {
			cw.Write(ev)
			cw.FlushError()
		}
		if !cw.complete() {
			b.Fatal("stream not complete")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(evs)), "ns/event")
}

// BenchmarkStreamHit replays a stored 200-event stream.
func BenchmarkStreamHit(b *testing.B) {
	c := newBenchCache(b)
	evs := streamAnswer()
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range evs {
			w.Write(ev)
		}
	}))
	b.SetBytes(totalLen(evs))
	benchHits(b, h, streamBody)
}

// BenchmarkCoalesce fans a 200-event stream out from one upstream call to
// a leader and its followers; bytes/s count every client's copy.
func BenchmarkCoalesce(b *testing.B) {
	for _, followers := range []int{1, 10} {
		b.Run(fmt.Sprintf("followers=%d", followers), func(b *testing.B) {
			c := newBenchCache(b)
			evs := streamAnswer()
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for mostFollowers(c) < followers {
					runtime.Gosched()
				}
				w.Header().Set("Content-Type", "text/event-stream")
				for _, ev := range evs {
					w.Write(ev)
					http.NewResponseController(w).Flush()
				}
			}))
			b.SetBytes(totalLen(evs) * int64(followers+1))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// A new prompt each round, so no round is a cache hit.
				body := strings.Replace(streamBody, "hi", fmt.Sprint("hi ", i), 1)
				var wg sync.WaitGroup
				for range followers + 1 {
					wg.Go(func() {
						r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
						// A credential, or scope key bypasses the cache and
						// no follower ever joins.
						r.Header.Set("Authorization", "Bearer sk-test-0123456789")
						h.ServeHTTP(&discard{h: http.Header{}}, r)
					})
				}
				wg.Wait()
			}
		})
	}
}
