package limiter

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

func TestAllOrNone(t *testing.T) {
	// Zone "a" (10/m, decided first) admits, then zone "b" refuses; the
	// charge "a" took must be given back.
	refusers := map[string]Zone{
		"rate":        {Name: "b", Requests: Rate{Count: 100, Per: time.Minute}, Burst: 1},
		"concurrency": {Name: "b", Concurrency: 1},
	}
	for _, alg := range []Algorithm{TokenBucket, LeakyBucket, FixedWindow} {
		for refuser, b := range refusers {
			t.Run(string(alg)+" then "+refuser, func(t *testing.T) {
				buckets, _ := newFrozenStore(t)
				a := Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Minute}, Algorithm: alg}
				a.Buckets, b.Buckets = buckets, buckets
				l := newLimiter(t, a, b)
				ctx, keys := context.Background(), []string{"k", "k"}

				first, err := l.Admit(ctx, keys)
				if err != nil || !first.Allowed {
					t.Fatalf("first request: %+v %v", first, err)
				}
				defer first.Done()
				before := remainingIn(t, l, "a", "k")

				second, err := l.Admit(ctx, keys)
				if err != nil {
					t.Fatal(err)
				}
				if second.Allowed || second.Zone != "b" {
					t.Fatalf("second request: allowed %v by zone %q, want a refusal by b", second.Allowed, second.Zone)
				}
				if after := remainingIn(t, l, "a", "k"); after != before {
					t.Fatalf("zone a kept the refused request's charge: %d left, was %d", after, before)
				}
			})
		}
	}
}

// remainingIn reads how many requests zone can still admit for raw,
// straight from its store.
func remainingIn(t *testing.T, l *Limiter, zoneName, raw string) int64 {
	return remainingOf(t, l, zoneName, requestMeter, raw)
}

// remainingOf reads how many units the meter of zone can still admit for
// raw, straight from its store: a token bucket's remaining tokens, a leaky
// bucket's places or tokens left to queue, a window's count left.
func remainingOf(t testing.TB, l *Limiter, zoneName string, meter int, raw string) int64 {
	t.Helper()
	for i := range l.zones {
		z := &l.zones[i]
		if z.Name != zoneName {
			continue
		}
		m := &z.meters[meter]
		key := hashKey(zoneName, raw).salted(m.tweak)
		if z.Algorithm == FixedWindow {
			res, err := z.Windows.Peek(context.Background(), key.String(), m.window)
			if err != nil {
				t.Fatal(err)
			}
			return res.Remaining
		}
		d, err := z.Buckets.Take(context.Background(), key, 0, maxHorizon, 0)
		if err != nil {
			t.Fatal(err)
		}
		cost := time.Duration(0)
		if meter == requestMeter {
			cost = m.interval
		}
		// Whole units: debt of part of a unit (a charge's lateness
		// credit leaves less than one) counts as a unit owed.
		left := m.limit(cost) - d.Backlog
		n := int64(left / m.interval)
		if left%m.interval < 0 {
			n--
		}
		return n
	}
	t.Fatalf("no zone %q", zoneName)
	return 0
}

func TestConcurrencyOverHTTP(t *testing.T) {
	tests := []struct {
		name    string
		maxWait time.Duration
	}{
		{"refused at once", 0},
		{"waits for a slot", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, Zone{Name: "conc", Concurrency: 2, MaxWait: tt.maxWait})
			inFlight := l.zones[0].InFlight
			held := func(raw string) int { return inFlight.Held(hashKey("conc", raw)) }
			release := make(chan struct{})
			srv := serve(t, l, HeadersOpenAI, holdUntil(release))
			ctx := context.Background()

			leaving, leave := context.WithCancel(ctx)
			answers := make(chan answer, 8)
			go func() { answers <- get(leaving, srv.URL, "k") }()
			go func() { answers <- get(ctx, srv.URL, "k") }()
			harness.Eventually(t, "two requests in flight", func() bool { return held("k") == 2 })

			third := make(chan answer, 1)
			go func() { third <- get(ctx, srv.URL, "k") }()
			if tt.maxWait == 0 {
				a := <-third
				if a.status != http.StatusTooManyRequests {
					t.Fatalf("third request: %d, want 429", a.status)
				}
				const body = `{"error":{"message":"llmgate: zone conc: 2 concurrent requests, retry in 1s","type":"concurrency","param":null,"code":"rate_limit_exceeded"}}`
				if a.body != body || a.header.Get("Retry-After") != "1" {
					t.Fatalf("refusal %q, Retry-After %q", a.body, a.header.Get("Retry-After"))
				}
			}

			// Another key is not affected.
			other := make(chan answer, 1)
			go func() { other <- get(ctx, srv.URL, "other") }()
			harness.Eventually(t, "the other key in flight", func() bool { return held("other") == 1 })

			// A client that leaves frees its slot: the waiting third
			// request takes it, or a new one does.
			leave()
			if tt.maxWait == 0 {
				harness.Eventually(t, "the slot to free", func() bool { return held("k") == 1 })
				go func() { third <- get(ctx, srv.URL, "k") }()
			}
			harness.Eventually(t, "the freed slot to be taken", func() bool { return held("k") == 2 })

			close(release)
			for _, ch := range []chan answer{third, other} {
				if a := <-ch; a.status != http.StatusOK {
					t.Fatalf("%d %v, want 200", a.status, a.err)
				}
			}
			harness.Eventually(t, "every slot to free", func() bool { return held("k")+held("other") == 0 })
		})
	}
}

func TestDoneFreesTheSlotOnce(t *testing.T) {
	l := newLimiter(t, Zone{Name: "conc", Concurrency: 2})
	ctx, keys := context.Background(), []string{"k"}
	first, _ := l.Admit(ctx, keys)
	second, _ := l.Admit(ctx, keys)
	if third, _ := l.Admit(ctx, keys); third.Allowed {
		t.Fatal("third request admitted over the cap")
	}
	first.Done()
	first.Done()
	third, _ := l.Admit(ctx, keys)
	if !third.Allowed {
		t.Fatal("third request refused after Done")
	}
	if got := l.zones[0].InFlight.Held(hashKey("conc", "k")); got != 2 {
		t.Fatalf("%d slots held, want 2: a second Done freed another's slot", got)
	}
	second.Done()
	third.Done()
}

func TestZoneWithoutKeyDoesNotApply(t *testing.T) {
	l := newLimiter(t,
		Zone{Name: "a", Requests: Rate{Count: 1, Per: time.Hour}},
		Zone{Name: "b", Requests: Rate{Count: 1, Per: time.Hour}},
	)
	ctx := context.Background()
	for i := range 3 {
		tk, err := l.Admit(ctx, []string{"", ""})
		if err != nil || !tk.Allowed || len(tk.Statuses()) != 0 {
			t.Fatalf("request %d with no zone: %+v %v", i, tk, err)
		}
	}
	if _, err := l.Admit(ctx, []string{"k"}); err == nil {
		t.Fatal("a key list of the wrong length was accepted")
	}
}

func TestAdmitIsExactUnderContention(t *testing.T) {
	t.Parallel() // slow: runs beside the others
	const (
		rate    = 10_000 // per second of the store's clock
		burst   = 20
		workers = 64
		run     = 3 * time.Second
		tick    = time.Microsecond
	)
	// Each worker moves the store's clock a tick before each request, so
	// time passes only while requests are made: however the machine
	// schedules the workers, no stretch of time goes unclaimed, and the
	// count admitted must match the rate exactly, not just stay under it.
	clock := new(harness.Clock)
	store := NewMemoryStore(MemoryOptions{Now: clock.Now})
	defer store.Close()
	start := clock.Now()
	l := newLimiter(t, Zone{Name: "hot", Requests: Rate{Count: rate, Per: time.Second}, Burst: burst, Buckets: store})
	var admitted, calls atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(run)
	for range workers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				clock.Advance(tick)
				tk, err := l.Admit(context.Background(), []string{"one key"})
				if err != nil {
					t.Error(err)
					return
				}
				calls.Add(1)
				if tk.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := clock.Now().Sub(start)
	got := admitted.Load()
	// The lateness credit, half an interval, may add one more.
	rated := int64(elapsed/(time.Second/rate)) + burst
	bound := rated + 1
	t.Logf("%d admitted of %d requests in %s of store time; bound %d", got, calls.Load(), elapsed, bound)
	if got > bound {
		t.Fatalf("%d admitted in %s, more than the rate allows (%d)", got, elapsed, bound)
	}
	// Between two decisions each worker moves the clock at most one tick,
	// so the bucket never fills while requests wait: nearly every interval
	// is used. The last decisions may not have seen the workers' last ticks.
	if lost := rated - got; lost > workers*int64(tick)/int64(time.Second/rate)+1 {
		t.Fatalf("%d admitted in %s, %d fewer than the rate allows", got, elapsed, lost)
	}
}
