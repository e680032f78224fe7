package limiter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// newLimiter builds a Limiter and closes it with the test.
func newLimiter(t testing.TB, zones ...Zone) *Limiter {
	t.Helper()
	l, err := New(zones, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// newFrozenStore returns a memory store on a fake clock, closed with the test.
func newFrozenStore(t testing.TB) (*MemoryStore, *harness.Clock) {
	clock := new(harness.Clock)
	s := NewMemoryStore(MemoryOptions{Now: clock.Now})
	t.Cleanup(func() { _ = s.Close() })
	return s, clock
}

// byAuthorization keys every zone on the Authorization header.
func byAuthorization(zones int) func(*http.Request) []string {
	return func(r *http.Request) []string {
		keys := make([]string, zones)
		for i := range keys {
			keys[i] = r.Header.Get("Authorization")
		}
		return keys
	}
}

// okHandler answers 200 "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// holdUntil is a handler that answers 200 once release is closed, or ends
// when its client leaves: a long LLM call, holding its slot meanwhile.
func holdUntil(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}

// serve starts a real HTTP server running next behind l's Middleware.
func serve(t testing.TB, l *Limiter, style HeaderStyle, next http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(l.Middleware(byAuthorization(len(l.zones)), style)(next))
	t.Cleanup(srv.Close)
	return srv
}

// answer is what a test keeps of an HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

// get sends a GET with the given Authorization and reads the answer.
func get(ctx context.Context, url, auth string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(body), err: err}
}

// backlog reads a bucket's backlog without changing it: a charge of
// nothing that any limit admits.
func backlog(t testing.TB, s BucketStore, zoneName, raw string) time.Duration {
	t.Helper()
	d, err := s.Take(context.Background(), hashKey(zoneName, raw), 0, maxHorizon, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d.Backlog
}
