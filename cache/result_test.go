package cache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/units"
)

// journal records, per request tag (the X-Tag header), what the cache
// reported and when the upstream was called, in order.
type journal struct {
	mu    sync.Mutex
	log   map[string][]string
	dones chan string // the tags of requests whose Serve returned
}

func (j *journal) add(tag, s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.log == nil {
		j.log = map[string][]string{}
	}
	j.log[tag] = append(j.log[tag], s)
}

func (j *journal) report(r *http.Request, res Result) {
	s := res.Outcome.String()
	if res.Detail != "" {
		s += " " + res.Detail
	}
	if res.Stored {
		s += " stored"
	}
	if res.Done {
		s = "done " + s
	}
	j.add(r.Header.Get("X-Tag"), s)
	if res.Done {
		j.dones <- r.Header.Get("X-Tag")
	}
}

// wait waits for Serve to return on the request of tag: a client may have
// its whole answer before.
func (j *journal) wait(t *testing.T, tag string) {
	t.Helper()
	select {
	case got := <-j.dones:
		if got != tag {
			t.Fatalf("request %s returned, want %s", got, tag)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("request %s never returned", tag)
	}
}

func (j *journal) of(tag string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.log[tag], ", ")
}

// TestReportTellsWhatServeDid: the outcome is reported before the answer
// starts (before the upstream is called, for a miss) and again when Serve
// returns; Stored says whether the answer is in the store, not whether it
// was meant to be.
func TestReportTellsWhatServeDid(t *testing.T) {
	j := &journal{dones: make(chan string, 10)}
	up := newUpstream(chatEvents(3)...)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.add(r.Header.Get("X-Tag"), "upstream")
		up.ServeHTTP(w, r)
	})
	srv, _ := serve(t, Config{Report: j.report, MaxResponse: units.Size(400)}, next)
	do := func(tag, method, path, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer sk-test")
		req.Header.Set("X-Tag", tag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	long := fmt.Sprintf(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"%s"}]}`, "long")
	for _, tc := range []struct {
		tag, method, path, body string
		events                  int
		want                    string
		status                  string
	}{
		{"miss", "POST", "/v1/chat/completions", streamBody, 3,
			"miss, upstream, done miss stored", "llmgate; fwd=miss"},
		{"hit", "POST", "/v1/chat/completions", streamBody, 3,
			"hit, done hit", "llmgate; hit; ttl=3599"},
		{"method", "GET", "/v1/chat/completions", "", 3,
			"bypass method, upstream, done bypass method", "llmgate; fwd=bypass; detail=method"},
		{"path", "POST", "/v1/models", streamBody, 3,
			"bypass path, upstream, done bypass path", "llmgate; fwd=bypass; detail=path"},
		// A stream without a length outgrows max_response after its
		// header offered to store it: the header cannot take that back,
		// the report does.
		{"outgrown", "POST", "/v1/chat/completions", long, 20,
			"miss, upstream, done miss", "llmgate; fwd=miss"},
	} {
		up.events = chatEvents(tc.events)
		resp := do(tc.tag, tc.method, tc.path, tc.body)
		j.wait(t, tc.tag)
		if got := j.of(tc.tag); got != tc.want {
			t.Errorf("%s: reported %q, want %q", tc.tag, got, tc.want)
		}
		if got := resp.Header.Get("Cache-Status"); got != tc.status && !(tc.tag == "hit" && strings.HasPrefix(got, "llmgate; hit")) {
			t.Errorf("%s: Cache-Status %q, want %q", tc.tag, got, tc.status)
		}
	}
}
