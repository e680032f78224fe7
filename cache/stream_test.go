package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/sse"
)

// upstream is a test upstream that counts its calls and answers with a
// stream of events, flushing each one.
type upstream struct {
	events []string
	// before, when set, runs before event i is written; it returns false
	// to end the answer there (as a cut connection).
	before func(r *http.Request, i int) bool
	// linger keeps the answer open after the last event until the call
	// is given up.
	linger bool
	calls  atomic.Int32
	ended  chan struct{} // receives when a call returns
}

func newUpstream(events ...string) *upstream {
	return &upstream{events: events, ended: make(chan struct{}, 100)}
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.calls.Add(1)
	defer func() { u.ended <- struct{}{} }()
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("X-Upstream", "yes")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for i, ev := range u.events {
		if u.before != nil && !u.before(r, i) {
			panic(http.ErrAbortHandler)
		}
		if _, err := io.WriteString(w, ev); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	if u.linger {
		<-r.Context().Done()
	}
}

// serve starts a server with the cache in front of next.
func serve(t *testing.T, cfg Config, next http.Handler) (*httptest.Server, *Cache) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Middleware(next))
	t.Cleanup(func() {
		srv.Close()
		c.Close()
	})
	return srv, c
}

// send posts a chat request and returns the answer with its body unread.
func send(t *testing.T, ctx context.Context, url, body string) *http.Response {
	t.Helper()
	req, err := harness.NewPost(ctx, url+"/v1/chat/completions", body, "Authorization", "Bearer sk-test")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// fetch posts a chat request and returns the answer and its whole body.
func fetch(t *testing.T, url, body string) (*http.Response, string, error) {
	t.Helper()
	resp := send(t, context.Background(), url, body)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// eventReader reads a stream event by event.
type eventReader struct {
	body io.Reader
	p    sse.Parser
	buf  []byte
}

// next returns the raw bytes of the next event, or an error at the end.
func (er *eventReader) next() (string, error) {
	for {
		if ev, ok := er.p.Next(); ok {
			return string(ev.Raw), nil
		}
		if er.buf == nil {
			er.buf = make([]byte, 4096)
		}
		n, err := er.body.Read(er.buf)
		if n > 0 {
			er.p.Feed(er.buf[:n])
			continue
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return "", err
	}
}

const streamBody = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`

func chatEvents(n int) []string {
	evs := make([]string, 0, n+1)
	for i := range n {
		evs = append(evs, fmt.Sprintf("data: {\"choices\":[{\"delta\":{\"content\":\"w%d \"}}]}\n\n", i))
	}
	return append(evs, "data: [DONE]\n\n")
}

func TestStreamStoredOnlyWhenClean(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []string
		stored bool
	}{
		{"openai done", chatEvents(3), true},
		{"openai CRLF", []string{"data: {}\r\n\r\n", "data: [DONE]\r\n\r\n"}, true},
		{"anthropic message_stop", []string{"event: message_start\ndata: {}\n\n", "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"}, true},
		{"responses completed", []string{"event: response.created\ndata: {\"response\":{\"error\":null}}\n\n", "event: response.completed\ndata: {}\n\n"}, true},
		{"terminal event split across writes", []string{"data: {}\n\nda", "ta: [DO", "NE]\n", "\n"}, true},
		{"no terminal event", chatEvents(3)[:3], false},
		{"terminal event incomplete", []string{"data: {}\n\n", "data: [DONE]\n"}, false},
		{"openai error then done", []string{"data: {}\n\n", "data: {\"error\":{\"message\":\"overloaded\"}}\n\n", "data: [DONE]\n\n"}, false},
		{"anthropic error", []string{"event: message_start\ndata: {}\n\n", "event: error\ndata: {}\n\n"}, false},
		{"responses failed", []string{"event: response.failed\ndata: {}\n\n"}, false},
		{"responses incomplete", []string{"event: response.incomplete\ndata: {}\n\n"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(tc.events...)
			srv, _ := serve(t, Config{}, up)
			want := strings.Join(tc.events, "")
			resp, got, err := fetch(t, srv.URL, streamBody)
			if err != nil || got != want {
				t.Fatalf("miss: %v, body %q, want %q", err, got, want)
			}
			if cs := resp.Header.Get("Cache-Status"); cs != "llmgate; fwd=miss" {
				t.Fatalf("miss Cache-Status %q", cs)
			}
			resp, got, err = fetch(t, srv.URL, streamBody)
			if err != nil || got != want {
				t.Fatalf("second: %v, body %q, want %q", err, got, want)
			}
			hit := strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit; ttl=")
			if hit != tc.stored || int(up.calls.Load()) != map[bool]int{true: 1, false: 2}[tc.stored] {
				t.Fatalf("stored = %v (Cache-Status %q, calls %d), want %v", hit, resp.Header.Get("Cache-Status"), up.calls.Load(), tc.stored)
			}
			if hit {
				if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" || resp.Header.Get("Age") == "" {
					t.Fatalf("hit Content-Type %q, Age %q", ct, resp.Header.Get("Age"))
				}
			}
		})
	}
}

// TestStreamPassesEventsAtOnce: the client gets each event while the
// upstream still holds the next one back.
func TestStreamPassesEventsAtOnce(t *testing.T) {
	for _, coalesce := range []bool{true, false} {
		t.Run(fmt.Sprint("coalesce=", coalesce), func(t *testing.T) {
			events := chatEvents(4)
			step := make(chan struct{})
			up := newUpstream(events...)
			up.before = func(r *http.Request, i int) bool {
				if i > 0 {
					<-step
				}
				return true
			}
			srv, _ := serve(t, Config{Coalesce: &coalesce}, up)
			resp := send(t, context.Background(), srv.URL, streamBody)
			defer resp.Body.Close()
			er := &eventReader{body: resp.Body}
			for i, want := range events {
				got, err := er.next()
				if err != nil || got != want {
					t.Fatalf("event %d: %q, %v; want %q", i, got, err, want)
				}
				if i+1 < len(events) {
					step <- struct{}{} // the upstream sends the next event only now
				}
			}
		})
	}
}

// TestStreamClientGoneStoresNothing: a client that leaves mid-stream ends
// the upstream call, and nothing is stored.
func TestStreamClientGoneStoresNothing(t *testing.T) {
	for _, coalesce := range []bool{true, false} {
		t.Run(fmt.Sprint("coalesce=", coalesce), func(t *testing.T) {
			events := chatEvents(3)
			up := newUpstream(events...)
			var cancelled atomic.Bool
			up.before = func(r *http.Request, i int) bool {
				if i == 0 {
					return true
				}
				<-r.Context().Done() // held until the cache gives the call up
				cancelled.Store(true)
				return false
			}
			srv, _ := serve(t, Config{Coalesce: &coalesce}, up)
			ctx, cancel := context.WithCancel(context.Background())
			resp := send(t, ctx, srv.URL, streamBody)
			if got, err := (&eventReader{body: resp.Body}).next(); err != nil || got != events[0] {
				t.Fatalf("first event %q, %v", got, err)
			}
			cancel()
			resp.Body.Close()
			<-up.ended
			if !cancelled.Load() {
				t.Fatal("the upstream call outlived its only client")
			}
			up.before = nil
			resp, got, err := fetch(t, srv.URL, streamBody)
			if err != nil || got != strings.Join(events, "") || up.calls.Load() != 2 {
				t.Fatalf("after the abort: calls %d, Cache-Status %q, err %v", up.calls.Load(), resp.Header.Get("Cache-Status"), err)
			}
		})
	}
}

// TestStreamClientStopsAtEnd: a client that stops reading at the terminal
// event, as the OpenAI SDKs do, and asks again at once gets a hit, even
// though the upstream had not closed its answer yet.
func TestStreamClientStopsAtEnd(t *testing.T) {
	for _, coalesce := range []bool{true, false} {
		t.Run(fmt.Sprint("coalesce=", coalesce), func(t *testing.T) {
			events := chatEvents(3)
			up := newUpstream(events...)
			up.linger = true
			srv, _ := serve(t, Config{Coalesce: &coalesce}, up)
			for i := range 3 {
				resp := send(t, context.Background(), srv.URL, streamBody)
				er := &eventReader{body: resp.Body}
				for _, want := range events {
					if got, err := er.next(); err != nil || got != want {
						t.Fatalf("round %d: %q %v", i, got, err)
					}
				}
				resp.Body.Close()
				if i > 0 && !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
					t.Fatalf("round %d: Cache-Status %q", i, resp.Header.Get("Cache-Status"))
				}
			}
			<-up.ended // given up once its client left
			if up.calls.Load() != 1 {
				t.Fatalf("upstream calls %d", up.calls.Load())
			}
		})
	}
}

func TestStreamUpstreamCutStoresNothing(t *testing.T) {
	up := newUpstream(chatEvents(3)...)
	up.before = func(r *http.Request, i int) bool { return i < 2 }
	srv, _ := serve(t, Config{}, up)
	for i := range 2 {
		if _, _, err := fetch(t, srv.URL, streamBody); err == nil {
			t.Fatal("a cut stream reached the client as complete")
		}
		if int(up.calls.Load()) != i+1 {
			t.Fatal("a cut stream was stored")
		}
	}
}

func TestStreamOverMaxResponsePassesUnstored(t *testing.T) {
	events := chatEvents(20)
	up := newUpstream(events...)
	srv, _ := serve(t, Config{MaxResponse: 200}, up)
	for i := range 2 {
		_, got, err := fetch(t, srv.URL, streamBody)
		if err != nil || got != strings.Join(events, "") {
			t.Fatalf("body %q, %v", got, err)
		}
		if int(up.calls.Load()) != i+1 {
			t.Fatal("an answer over max_response was stored")
		}
	}
}

// TestCaptureFlushes: a handler that flushes by type assertion reaches the
// client's flusher through the capture.
func TestCaptureFlushes(t *testing.T) {
	rec := httptest.NewRecorder()
	cw := &capture{ResponseWriter: rec, f: newFlight(1<<20, false), max: 1 << 20, room: -1}
	fl, ok := any(cw).(http.Flusher)
	if !ok {
		t.Fatal("capture is not an http.Flusher")
	}
	fl.Flush()
	if !rec.Flushed || rec.Code != http.StatusOK {
		t.Fatalf("flushed %v, code %d", rec.Flushed, rec.Code)
	}
	if err := http.NewResponseController(cw).Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestReplaySameBytes(t *testing.T) {
	body := []byte(strings.Join(chatEvents(200), ""))
	rec := httptest.NewRecorder()
	now := time.Now()
	replay(rec, httptest.NewRequest(http.MethodPost, "/v1/messages", nil), &Entry{ContentType: "text/event-stream", Body: body, Stored: now.Add(-2 * time.Second), Expires: now.Add(time.Hour)}, now)
	if !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Content-Type") != "text/event-stream" || rec.Header().Get("Age") != "2" {
		t.Fatalf("replay: %d bytes, headers %v", rec.Body.Len(), rec.Header())
	}
	// A request id of its own, under both providers' names on an Anthropic request.
	if id := rec.Header().Get("X-Request-Id"); len(id) != len("llmgate-")+16 || !strings.HasPrefix(id, "llmgate-") || rec.Header().Get("Request-Id") != id {
		t.Fatalf("request ids %q %q", id, rec.Header().Get("Request-Id"))
	}
}
