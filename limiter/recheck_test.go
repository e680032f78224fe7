package limiter

import (
	"context"
	"testing"
	"time"
)

// A request that waited for a concurrency slot is refused by a cost
// budget, a token bucket or a window, that the answer ahead of it settled
// into debt past what its reservation fits, and given back everything;
// one that still fits, by the bucket's refill during the wait too, goes
// on.
func TestUsageRecheckedAfterWaitingForASlot(t *testing.T) {
	tests := []struct {
		name string
		// used is what the request ahead spends; waited, how long the
		// second request waited for its slot.
		used    int64
		waited  time.Duration
		allowed bool
	}{
		{"within the budget", 500, 0, true},
		{"the reservation just fits", 900, 0, true},
		{"debt past the reservation", 901, 0, false},
		{"far in debt", 2000, 0, false},
		// 1000 microdollars an hour: 1100 refill in 66 minutes.
		{"debt paid while waiting", 2000, 66 * time.Minute, true},
	}
	// microdollar is what one adds to the budget's bucket.
	const microdollar = 3600 * time.Millisecond
	for _, alg := range []Algorithm{TokenBucket, FixedWindow} {
		for _, tt := range tests {
			if alg == FixedWindow && tt.waited > 0 {
				continue // a window does not refill
			}
			t.Run(string(alg)+"/"+tt.name, func(t *testing.T) {
				store, clock := newFrozenStore(t)
				l := newLimiter(t,
					Zone{Name: "rph", Requests: Rate{Count: 100, Per: time.Hour}, Buckets: store},
					Zone{Name: "budget", Cost: Rate{Count: 1000, Per: time.Hour}, Algorithm: alg, Concurrency: 1, MaxWait: time.Hour, Buckets: store},
				)
				ctx, keys, estimate := context.Background(), []string{"k", "k"}, Spend{Cost: 100}
				first, err := l.AdmitSpend(ctx, keys, estimate)
				if err != nil || !first.Allowed {
					t.Fatalf("first request: %+v, %v", first, err)
				}

				inLine := make(chan struct{})
				decided := make(chan *Ticket, 1)
				go func() {
					tk := new(Ticket)
					if err := l.admit(ctx, tk, keys, estimate, true, func() { close(inLine) }); err != nil {
						t.Error(err)
						tk = nil
					}
					decided <- tk
				}()
				<-inLine
				if err := first.Settle(ctx, Spend{Cost: tt.used}); err != nil {
					t.Fatal(err)
				}
				clock.Advance(tt.waited)
				first.Done()
				second := <-decided
				if second == nil {
					return
				}
				defer second.Done()

				if second.Allowed != tt.allowed {
					t.Fatalf("second request allowed %v (refused by %q %s), want %v", second.Allowed, second.Zone, second.Kind, tt.allowed)
				}
				// What the budget holds: the first request's usage, less the
				// refill, and the second's reservation if it goes on; a token
				// bucket's, less the first charge's lateness credit too (a
				// fresh bucket counts from MaxSlack ago).
				want := tt.used - int64(tt.waited/microdollar)
				requests := int64(2)
				if !tt.allowed {
					if second.Zone != "budget" || second.Kind != KindCost || second.RetryAfter <= 0 {
						t.Fatalf("second request refused by %q %s, retry after %s; want by budget's cost, with a retry", second.Zone, second.Kind, second.RetryAfter)
					}
					if st := second.Statuses()[second.refusal]; st.Remaining != 0 {
						t.Errorf("refusing status %+v; want nothing remaining", st)
					}
					if held := l.zones[1].InFlight.Held(hashKey("budget", "k")); held != 0 {
						t.Errorf("%d slots held after the refusal; want 0", held)
					}
					requests = 1
				} else {
					want += estimate.Cost
				}
				sts, _, err := l.Peek(ctx, "budget", "k")
				if err != nil {
					t.Fatal(err)
				}
				if got := sts[0]; alg == TokenBucket && got.Reset != time.Duration(want)*microdollar-MaxSlack ||
					alg == FixedWindow && got.Remaining != max(1000-want, 0) {
					t.Errorf("budget %+v, want %d microdollars spent", got, want)
				}
				// (An hour's wait refills the request rate whole.)
				if got := remainingIn(t, l, "rph", "k"); tt.waited == 0 && got != 100-requests {
					t.Errorf("rph has %d remaining, want %d", got, 100-requests)
				}
			})
		}
	}
}
