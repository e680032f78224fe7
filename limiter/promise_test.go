package limiter

import (
	"context"
	"testing"
	"time"
)

// TestRefusalsTakeTurns: requests a bucket refuses together are told
// times one interval (and a quarter, for the clients' lateness) apart, so
// that clients retrying as told come back one at a time and each finds
// the room made for it.
func TestRefusalsTakeTurns(t *testing.T) {
	store, clock := newFrozenStore(t)
	l := newLimiter(t, Zone{Name: "turns", Requests: Rate{Count: 2, Per: time.Second}, Burst: 1, Buckets: store})
	ctx, keys := context.Background(), []string{"k"}
	admit := func() *Ticket {
		t.Helper()
		tk, err := l.Admit(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	if !admit().Allowed {
		t.Fatal("first request refused")
	}
	var retries []time.Duration
	for range 5 {
		tk := admit()
		if tk.Allowed {
			t.Fatal("a request over the burst admitted")
		}
		retries = append(retries, tk.RetryAfter)
	}
	for i, got := range retries {
		if want := 500*time.Millisecond + time.Duration(i)*625*time.Millisecond; got != want {
			t.Errorf("refusal %d told %s, want %s (all: %v)", i+1, got, want, retries)
		}
	}
	// Each comes back when told, some late, and is admitted: the others
	// are not due.
	late := []time.Duration{20 * time.Millisecond, 0, 100 * time.Millisecond, 0, 0}
	var elapsed time.Duration
	for i, retry := range retries {
		clock.Advance(retry + late[i] - elapsed)
		elapsed = retry + late[i]
		if !admit().Allowed {
			t.Fatalf("the refusal told %s, back %s late, refused", retry, late[i])
		}
	}
}

// TestTurnsAreBounded: turns are promised at most MaxSDKWait ahead; past
// that a refusal is told the bucket's own wait, and promises no turn.
func TestTurnsAreBounded(t *testing.T) {
	store, _ := newFrozenStore(t)
	l := newLimiter(t, Zone{Name: "slow", Requests: Rate{Count: 1, Per: 40 * time.Second}, Buckets: store})
	ctx, keys := context.Background(), []string{"k"}
	var retries []time.Duration
	for range 4 {
		tk, err := l.Admit(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if !tk.Allowed {
			retries = append(retries, tk.RetryAfter)
		}
	}
	// The first refusal's turn is 40 s away, within the bound; the next
	// turns would be 80 s and more away: they are told the bucket's wait.
	for i, got := range retries {
		if got != 40*time.Second {
			t.Errorf("refusal %d told %s, want 40s (all: %v)", i+1, got, retries)
		}
	}
	if len(retries) != 3 {
		t.Fatalf("%d refusals, want 3", len(retries))
	}
}
