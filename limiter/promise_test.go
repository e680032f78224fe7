package limiter

import (
	"context"
	"testing"
	"time"
)

// TestRefusalsTakeTurns: requests a bucket refuses together are told
// times one interval (and a half, for the clients' lateness) apart, so
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
	// The first turn is when the bucket has room: 500 ms after the first
	// charge, which counts from MaxSlack ago (its lateness credit).
	for i, got := range retries {
		if want := 500*time.Millisecond - MaxSlack + time.Duration(i)*750*time.Millisecond; got != want {
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
	// The first refusal's turn is 40 s away (less the first charge's
	// lateness credit), within the bound; the next turns would be 80 s and
	// more away: they are told the bucket's wait.
	for i, got := range retries {
		if got != 40*time.Second-MaxSlack {
			t.Errorf("refusal %d told %s, want 40s less MaxSlack (all: %v)", i+1, got, retries)
		}
	}
	if len(retries) != 3 {
		t.Fatalf("%d refusals, want 3", len(retries))
	}
}

// TestFloodPushesTurnsBoundedly: a flood of refusals on a shared key,
// whose clients never come back, pushes the turns of later refusals at
// most maxTurns out; once that far, refusals are told the bucket's own
// wait.
func TestFloodPushesTurnsBoundedly(t *testing.T) {
	store, clock := newFrozenStore(t)
	l := newLimiter(t, Zone{Name: "shared", Requests: Rate{Count: 2, Per: time.Second}, Burst: 1, Buckets: store})
	ctx, keys := context.Background(), []string{"static"}
	const turn = 750 * time.Millisecond // 500ms a request, and a half
	bound := 500*time.Millisecond + maxTurns*turn
	var longest time.Duration
	told := map[time.Duration]int{}
	for range 100 {
		tk, err := l.Admit(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if !tk.Allowed {
			longest = max(longest, tk.RetryAfter)
			told[tk.RetryAfter]++
		}
	}
	if longest > bound {
		t.Errorf("a refusal told %s, beyond the bound %s", longest, bound)
	}
	// The bucket's own wait: 500 ms less the first charge's lateness credit.
	if told[500*time.Millisecond-MaxSlack] < 100-maxTurns-2 {
		t.Errorf("refusals past the bound told %v, want the bucket's own wait, 499ms", told)
	}
	// Idle for 5s: a new refusal's turn is within the same bound.
	clock.Advance(5 * time.Second)
	l.Admit(ctx, keys)
	tk, _ := l.Admit(ctx, keys)
	if tk.Allowed || tk.RetryAfter > bound {
		t.Errorf("after the flood: allowed %v, told %s", tk.Allowed, tk.RetryAfter)
	}
}
