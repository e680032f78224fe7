package limiter

import (
	"context"
	"testing"
	"time"
)

// TestLatenessCreditOfAMeter: the limiter gives a charge the lateness
// credit of its meter's unit (half its interval, at most MaxSlack), not of
// the charge: a request late by less than that loses nothing, and a burst
// of charges of many units takes no more than the bucket's depth.
func TestLatenessCreditOfAMeter(t *testing.T) {
	store, clock := newFrozenStore(t)
	l := newLimiter(t,
		// One request every 2 ms, depth 1: a credit of 1 ms.
		Zone{Name: "rps", Requests: Rate{Count: 500, Per: time.Second}, Burst: 1, Buckets: store},
		// A token every 100 µs, depth 10: a credit of 50 µs, a charge
		// of 4 tokens or not.
		Zone{Name: "tokens", Tokens: Rate{Count: 10, Per: time.Millisecond}, Buckets: store},
	)
	ctx := context.Background()
	admit := func(zone string, tokens int64) bool {
		t.Helper()
		keys := []string{"", ""}
		if zone == "rps" {
			keys[0] = "k"
		} else {
			keys[1] = "k"
		}
		tk, err := l.AdmitSpend(ctx, keys, Spend{Tokens: tokens})
		if err != nil {
			t.Fatal(err)
		}
		return tk.Allowed
	}
	// The first request's bucket counts from 1 ms ago: room again at 1 ms.
	if !admit("rps", 0) {
		t.Fatal("first request refused")
	}
	clock.Advance(1300 * time.Microsecond) // 0.3 ms late: room again at 3 ms
	if !admit("rps", 0) {
		t.Fatal("second request refused")
	}
	clock.Advance(1700 * time.Microsecond) // on time, at 3 ms
	if !admit("rps", 0) {
		t.Fatal("a request on time after one late refused: the lateness was charged")
	}
	if admit("rps", 0) {
		t.Fatal("a second request at the same instant admitted beyond the depth")
	}
	// 10 tokens deep: two charges of 4 fit, a third does not. A credit of
	// half a charge (200 µs, two tokens) would have let it in.
	for i, want := range []bool{true, true, false} {
		if got := admit("tokens", 4); got != want {
			t.Fatalf("token charge %d: allowed %v, want %v", i+1, got, want)
		}
	}
}
