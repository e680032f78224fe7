package limiter

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// brokenStore is a bucket store whose every call fails, as an unreachable
// Redis would.
type brokenStore struct{}

var errStoreDown = errors.New("store down")

func (brokenStore) Take(context.Context, Key, time.Duration, time.Duration, time.Duration) (Decision, error) {
	return Decision{}, errStoreDown
}

func (brokenStore) Adjust(context.Context, Key, time.Duration) error { return errStoreDown }

func (brokenStore) Promise(context.Context, Key, time.Duration, time.Duration, time.Duration) (time.Duration, error) {
	return 0, errStoreDown
}

// failingAdjust decides like a memory store but cannot give anything back.
type failingAdjust struct{ *MemoryStore }

func (failingAdjust) Adjust(context.Context, Key, time.Duration) error { return errStoreDown }

func TestStoreFailureGivesBackTheOtherZones(t *testing.T) {
	good, _ := newFrozenStore(t)
	l := newLimiter(t,
		Zone{Name: "good", Requests: Rate{Count: 10, Per: time.Minute}, Buckets: good},
		Zone{Name: "broken", Requests: Rate{Count: 100, Per: time.Minute}, Buckets: brokenStore{}},
	)
	tk, err := l.Admit(context.Background(), []string{"secret-key", "secret-key"})
	if !errors.Is(err, errStoreDown) || tk != nil {
		t.Fatalf("ticket %v, error %v; want the store's error alone", tk, err)
	}
	if strings.Contains(err.Error(), "secret-key") || !strings.Contains(err.Error(), `zone "broken"`) {
		t.Fatalf("error %q names the key or misses the zone", err)
	}
	if got := backlog(t, good, "good", "secret-key"); got != 0 {
		t.Fatalf("the good zone kept a charge: backlog %s", got)
	}
}

func TestGiveBackFailureGoesToOnError(t *testing.T) {
	store, _ := newFrozenStore(t)
	var mu sync.Mutex
	var reported []error
	l, err := New([]Zone{
		{Name: "a", Requests: Rate{Count: 10, Per: time.Minute}, Buckets: failingAdjust{store}},
		{Name: "b", Requests: Rate{Count: 100, Per: time.Minute}, Burst: 1},
	}, Options{OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, keys := context.Background(), []string{"k", "k"}
	if tk, err := l.Admit(ctx, keys); err != nil || !tk.Allowed {
		t.Fatalf("first: %v %v", tk, err)
	}
	tk, err := l.Admit(ctx, keys)
	if err != nil || tk.Allowed {
		t.Fatalf("second: allowed %v, error %v; want a refusal", tk.Allowed, err)
	}
	if len(reported) != 1 || !errors.Is(reported[0], errStoreDown) {
		t.Fatalf("reported %v", reported)
	}
}

func TestMiddlewareOnStoreFailure(t *testing.T) {
	tests := []struct {
		name       string
		failClosed bool
		want       int
	}{
		{"open admits", false, http.StatusOK},
		{"closed answers 503", true, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reported atomic.Int32
			l, err := New([]Zone{{Name: "z", Requests: Rate{Count: 1, Per: time.Second}, Buckets: brokenStore{}}},
				Options{FailClosed: tt.failClosed, OnError: func(error) { reported.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, l, HeadersOpenAI, okHandler)
			a := get(context.Background(), srv.URL, "k")
			if a.status != tt.want || reported.Load() != 1 {
				t.Fatalf("status %d, %d errors reported; want %d and 1", a.status, reported.Load(), tt.want)
			}
		})
	}
}

// TestStoreFailureKeepsConcurrencyCaps: with the rate store down and
// FailClosed unset, the rates go unenforced, but a zone's concurrency cap
// lives in this process and still holds.
func TestStoreFailureKeepsConcurrencyCaps(t *testing.T) {
	var reported atomic.Int32
	l, err := New([]Zone{{Name: "z", Requests: Rate{Count: 1, Per: time.Hour}, Concurrency: 1, Buckets: brokenStore{}}},
		Options{OnError: func(error) { reported.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	srv := serve(t, l, HeadersOpenAI, holdUntil(release))
	ctx := context.Background()
	held := make(chan answer, 1)
	go func() { held <- get(ctx, srv.URL, "k") }()
	harness.Eventually(t, "the slot held", func() bool { return l.zones[0].InFlight.Held(hashKey("z", "k")) == 1 })
	if a := get(ctx, srv.URL, "k"); a.status != http.StatusTooManyRequests || !strings.Contains(a.body, `"type":"concurrency"`) {
		t.Fatalf("second request of the key while the store is down: %d %s, want the concurrency 429", a.status, a.body)
	}
	close(release)
	if a := <-held; a.status != http.StatusOK {
		t.Fatalf("the request holding the slot: %d", a.status)
	}
	// The rate (1 an hour) is not enforced while its store fails.
	for i := range 3 {
		if a := get(ctx, srv.URL, "k"); a.status != http.StatusOK {
			t.Fatalf("request %d after the slot freed: %d", i, a.status)
		}
	}
	if n := reported.Load(); n != 5 {
		t.Errorf("%d store errors reported, want one a request (5)", n)
	}
}
