package limiter

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	ulule "github.com/ulule/limiter/v3"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// tokenZone is a zone of 1000 tokens a minute, one token every 60ms.
func tokenZone(alg Algorithm) Zone {
	return Zone{Name: "tpm", Tokens: Rate{Count: 1000, Per: time.Minute}, Algorithm: alg}
}

// withFrozenStore gives z a bucket store on a clock that does not move, so
// that the tokens left are exact.
func withFrozenStore(t testing.TB, z Zone) Zone {
	z.Buckets, _ = newFrozenStore(t)
	return z
}

func TestTokensReserveThenSettle(t *testing.T) {
	// step is one request: admitted with an estimate, then settled with
	// its usage (refund when usage is -1, none when -2).
	type step struct {
		estimate, used int64
		allowed        bool
		// reserved and settled are the tokens left after admission and
		// after settling. A window cannot show debt: it reads 0.
		reserved, settled int64
	}
	const refund, keep = -1, -2
	tests := []struct {
		name  string
		steps []step
	}{
		{"usage below the estimate gives the rest back", []step{
			{300, 100, true, 700, 900},
		}},
		{"usage above the estimate is debt", []step{
			{300, 1500, true, 700, -500},
			{1, 0, false, -500, -500},
		}},
		{"refund gives all back", []step{
			{300, refund, true, 700, 1000},
		}},
		{"unsettled keeps the estimate", []step{
			{300, keep, true, 700, 700},
			{800, keep, false, 700, 700},
			{700, keep, true, 0, 0},
		}},
		{"no estimate reserves one token", []step{
			{0, keep, true, 999, 999},
			{-5, 10, true, 998, 989},
		}},
		{"an estimate over the bucket reserves the bucket", []step{
			{5000, keep, true, 0, 0},
			{1, 0, false, 0, 0},
		}},
		{"an estimate over the bucket waits for a full bucket", []step{
			{10, keep, true, 990, 990},
			{5000, keep, false, 990, 990},
		}},
	}
	for _, alg := range []Algorithm{TokenBucket, FixedWindow} {
		for _, tt := range tests {
			t.Run(string(alg)+"/"+tt.name, func(t *testing.T) {
				l := newLimiter(t, withFrozenStore(t, tokenZone(alg)))
				ctx, keys := context.Background(), []string{"k"}
				left := func(want int64) int64 {
					if alg == FixedWindow {
						return max(want, 0)
					}
					return want
				}
				for i, st := range tt.steps {
					tk, err := l.AdmitSpend(ctx, keys, Spend{Tokens: st.estimate})
					if err != nil {
						t.Fatal(err)
					}
					if tk.Allowed != st.allowed {
						t.Fatalf("step %d: allowed %v, want %v", i, tk.Allowed, st.allowed)
					}
					if got := remainingOf(t, l, "tpm", tokenMeter, "k"); got != left(st.reserved) {
						t.Fatalf("step %d: %d tokens left after admission, want %d", i, got, left(st.reserved))
					}
					switch st.used {
					case refund:
						err = tk.Refund(ctx)
					case keep:
					default:
						err = tk.Settle(ctx, Spend{Tokens: st.used})
					}
					if err != nil {
						t.Fatal(err)
					}
					tk.Done()
					if got := remainingOf(t, l, "tpm", tokenMeter, "k"); got != left(st.settled) {
						t.Fatalf("step %d: %d tokens left after settling, want %d", i, got, left(st.settled))
					}
				}
			})
		}
	}
}

func TestHugeUsageIsBoundedDebt(t *testing.T) {
	for _, alg := range []Algorithm{TokenBucket, LeakyBucket, FixedWindow} {
		t.Run(string(alg), func(t *testing.T) {
			zone := tokenZone(alg)
			if alg == LeakyBucket {
				// Queued requests wait on real timers: keep them short.
				zone.Tokens.Per = time.Millisecond
			}
			l := newLimiter(t, withFrozenStore(t, zone))
			ctx, keys := context.Background(), []string{"k"}
			// Many requests in flight report absurd usage: enough to
			// overflow an unbounded count many times over.
			var tickets []*Ticket
			for range 100 {
				tk, _ := l.AdmitSpend(ctx, keys, Spend{Tokens: 1})
				tickets = append(tickets, tk)
			}
			for _, tk := range tickets {
				if err := tk.Settle(ctx, Spend{Tokens: 1 << 62}); err != nil {
					t.Fatal(err)
				}
			}
			// Debt that wrapped around would read as a full bucket.
			if tk, _ := l.AdmitSpend(ctx, keys, Spend{Tokens: 1}); tk.Allowed {
				t.Fatal("admitted after huge usage")
			}
		})
	}
}

func TestSettleCountsOnce(t *testing.T) {
	l := newLimiter(t, withFrozenStore(t, tokenZone(TokenBucket)))
	ctx, keys := context.Background(), []string{"k"}
	tk, _ := l.AdmitSpend(ctx, keys, Spend{Tokens: 300})
	var wg sync.WaitGroup
	for _, used := range []int64{100, 200, 900, 0} {
		wg.Go(func() { _ = tk.Settle(ctx, Spend{Tokens: used}) })
	}
	wg.Wait()
	_ = tk.Refund(ctx)
	got := remainingOf(t, l, "tpm", tokenMeter, "k")
	switch got {
	case 900, 800, 100, 1000: // one of the four, whichever came first
	default:
		t.Fatalf("%d tokens left: the settlements added up", got)
	}
}

func TestSettleAfterTheContextEnded(t *testing.T) {
	l := newLimiter(t, withFrozenStore(t, tokenZone(TokenBucket)))
	ctx, cancel := context.WithCancel(context.Background())
	tk, _ := l.AdmitSpend(ctx, []string{"k"}, Spend{Tokens: 300})
	cancel() // the client left after the answer began
	if err := tk.Settle(ctx, Spend{Tokens: 50}); err != nil {
		t.Fatal(err)
	}
	if got := remainingOf(t, l, "tpm", tokenMeter, "k"); got != 950 {
		t.Fatalf("%d tokens left, want 950", got)
	}
}

func TestSettleWithoutTokens(t *testing.T) {
	tests := []struct {
		name  string
		zones []Zone
		keys  []string
	}{
		{"requests only", []Zone{{Name: "rpm", Requests: Rate{Count: 10, Per: time.Minute}}}, []string{"k"}},
		{"zone not applied", []Zone{tokenZone(TokenBucket)}, []string{""}},
		{"refused", []Zone{{Name: "rpm", Requests: Rate{Count: 1, Per: time.Hour}}, tokenZone(TokenBucket)}, []string{"k", "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, tt.zones...)
			ctx := context.Background()
			tk, err := l.AdmitSpend(ctx, tt.keys, Spend{Tokens: 100})
			if tt.name == "refused" {
				_ = tk.Settle(ctx, Spend{Tokens: 100})
				tk, err = l.AdmitSpend(ctx, tt.keys, Spend{Tokens: 100})
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tk.Settle(ctx, Spend{Tokens: 5000}); err != nil {
				t.Fatal(err)
			}
			if tt.name == "refused" {
				if tk.Allowed {
					t.Fatal("second request admitted")
				}
				if got := remainingOf(t, l, "tpm", tokenMeter, "k"); got != 900 {
					t.Fatalf("settling a refused ticket moved the bucket: %d left, want 900", got)
				}
			}
		})
	}
}

func TestTokenRefusal(t *testing.T) {
	l := newLimiter(t, withFrozenStore(t, Zone{Name: "tpm", Tokens: Rate{Count: 1000, Per: time.Minute}, Requests: Rate{Count: 10, Per: time.Second}}))
	ctx, keys := context.Background(), []string{"k"}
	first, _ := l.AdmitSpend(ctx, keys, Spend{Tokens: 400})
	_ = first.Settle(ctx, Spend{Tokens: 1500}) // 500 tokens of debt: 30 s at 60 ms a token
	tk, err := l.AdmitSpend(ctx, keys, Spend{Tokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The 100 tokens fit once 600 have refilled: 36 s, less the first
	// charge's lateness credit (a fresh bucket counts from MaxSlack ago).
	if tk.Allowed || tk.Zone != "tpm" || tk.Kind != KindTokens || tk.RetryAfter != 36*time.Second-MaxSlack {
		t.Fatalf("refusal %+v, want by tpm's tokens, retry in 36s", tk)
	}
	if got := remainingIn(t, l, "tpm", "k"); got != 9 {
		t.Fatalf("the refused request kept its request charge: %d requests left, want 9", got)
	}
}

func TestLeakyBucketTokensWait(t *testing.T) {
	// 1000 tokens a second, one a millisecond; a request waits at most
	// 200 ms for the tokens ahead of it to leave. The store's clock is
	// frozen, so only charges move the bucket.
	zone := withFrozenStore(t, Zone{Name: "tps", Tokens: Rate{Count: 1000, Per: time.Second}, Algorithm: LeakyBucket, MaxWait: 200 * time.Millisecond})
	l := newLimiter(t, zone)
	ctx, keys := context.Background(), []string{"k"}
	// The first charge's lateness credit: a fresh bucket counts from half
	// a token ago.
	const credit = 500 * time.Microsecond
	steps := []struct {
		estimate int64
		allowed  bool
		retry    time.Duration
	}{
		{150, true, 0}, // leaves at once
		{100, true, 0}, // waits 150 ms, less the credit
		{10, false, 50*time.Millisecond - credit}, // would wait 250 ms, less the credit
		// Told to come back after the refused request before it, whose
		// 10 tokens take 10 ms to leave (and 5 ms for lateness): its own
		// size does not matter.
		{5000, false, 65*time.Millisecond - credit},
	}
	for i, st := range steps {
		tk, err := l.AdmitSpend(ctx, keys, Spend{Tokens: st.estimate})
		if err != nil {
			t.Fatal(err)
		}
		if tk.Allowed != st.allowed || tk.RetryAfter != st.retry {
			t.Fatalf("step %d: allowed %v retry %s, want %v %s", i, tk.Allowed, tk.RetryAfter, st.allowed, st.retry)
		}
	}
	// A leaving request that was waiting gives its tokens back.
	leaving, leave := context.WithCancel(ctx)
	leave()
	if err := zone.Buckets.Adjust(ctx, hashKey("tps", "k").salted(meterTweaks[tokenMeter]), -60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tk, _ := l.AdmitSpend(leaving, keys, Spend{Tokens: 30})
	if tk.Allowed || remainingOf(t, l, "tps", tokenMeter, "k") != 10 {
		t.Fatalf("a request that left: allowed %v, %d tokens left to queue, want 10", tk.Allowed, remainingOf(t, l, "tps", tokenMeter, "k"))
	}
}

func TestAllOrNoneWithTokens(t *testing.T) {
	// Zone "a" admits, zone "b" refuses; what "a" took must be given back.
	tests := []struct {
		name string
		a, b Zone
		// meter of "a" to check
		meter int
	}{
		{"tokens refuse, requests given back",
			Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Minute}},
			Zone{Name: "b", Tokens: Rate{Count: 500, Per: time.Minute}}, requestMeter},
		{"requests refuse, tokens given back",
			Zone{Name: "a", Tokens: Rate{Count: 5000, Per: time.Minute}},
			Zone{Name: "b", Requests: Rate{Count: 1, Per: time.Minute}}, tokenMeter},
		{"tokens refuse, tokens given back",
			Zone{Name: "a", Tokens: Rate{Count: 5000, Per: time.Minute}},
			Zone{Name: "b", Tokens: Rate{Count: 500, Per: time.Minute}}, tokenMeter},
		{"a zone's own tokens refuse, its requests given back",
			// A leaky bucket refuses by the wait alone: one second.
			Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Second}, Tokens: Rate{Count: 500, Per: time.Minute}, MaxWait: time.Second},
			Zone{Name: "b", Concurrency: 100}, requestMeter},
	}
	for _, alg := range []Algorithm{TokenBucket, LeakyBucket, FixedWindow} {
		for _, tt := range tests {
			t.Run(string(alg)+"/"+tt.name, func(t *testing.T) {
				buckets, _ := newFrozenStore(t)
				a, b := tt.a, tt.b
				a.Algorithm, a.Buckets, b.Buckets = alg, buckets, buckets
				if alg == FixedWindow || a.Requests.IsZero() {
					a.Burst = 0
				}
				l := newLimiter(t, a, b)
				ctx, keys := context.Background(), []string{"k", "k"}
				first, err := l.AdmitSpend(ctx, keys, Spend{Tokens: 300})
				if err != nil || !first.Allowed {
					t.Fatalf("first request: %+v %v", first, err)
				}
				defer first.Done()
				before := remainingOf(t, l, "a", tt.meter, "k")
				second, err := l.AdmitSpend(ctx, keys, Spend{Tokens: 300})
				if err != nil {
					t.Fatal(err)
				}
				if second.Allowed {
					t.Fatal("second request admitted")
				}
				if after := remainingOf(t, l, "a", tt.meter, "k"); after != before {
					t.Fatalf("zone a kept the refused request's charge: %d left, was %d", after, before)
				}
			})
		}
	}
}

// fakeWindows is a fixed-window store on a clock a test moves, so that a
// window can end between a reservation and its settlement.
type fakeWindows struct {
	mu     sync.Mutex
	now    time.Time
	counts map[string]*fakeWindow
}

type fakeWindow struct {
	count int64
	end   time.Time
}

func newFakeWindows() *fakeWindows {
	return &fakeWindows{now: new(harness.Clock).Now(), counts: map[string]*fakeWindow{}}
}

func (s *fakeWindows) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

func (s *fakeWindows) Increment(_ context.Context, key string, n int64, rate ulule.Rate) (ulule.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.counts[key]
	if w == nil || !s.now.Before(w.end) {
		w = &fakeWindow{end: s.now.Add(rate.Period)}
		s.counts[key] = w
	}
	w.count += n
	return s.context(w, rate), nil
}

func (s *fakeWindows) context(w *fakeWindow, rate ulule.Rate) ulule.Context {
	c := ulule.Context{Limit: rate.Limit, Reset: w.end.Unix(), Reached: w.count > rate.Limit}
	if !c.Reached {
		c.Remaining = rate.Limit - w.count
	}
	return c
}

func (s *fakeWindows) Peek(_ context.Context, key string, rate ulule.Rate) (ulule.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.counts[key]
	if w == nil || !s.now.Before(w.end) {
		w = &fakeWindow{end: s.now.Add(rate.Period)}
	}
	return s.context(w, rate), nil
}

func (s *fakeWindows) Get(ctx context.Context, key string, rate ulule.Rate) (ulule.Context, error) {
	return s.Increment(ctx, key, 1, rate)
}

func (s *fakeWindows) Reset(_ context.Context, key string, rate ulule.Rate) (ulule.Context, error) {
	s.mu.Lock()
	delete(s.counts, key)
	s.mu.Unlock()
	return s.Peek(context.Background(), key, rate)
}

func TestWindowSettlementAcrossWindows(t *testing.T) {
	tests := []struct {
		name string
		used int64
		// the tokens left in the new window after the old reservation is
		// settled; the new window holds one reservation of 300 (or none)
		other bool
		want  int64
	}{
		{"a refund does not reach the new window", 0, true, 700},
		{"a refund into an empty new window", 0, false, 1000},
		{"debt lands in the new window", 800, true, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			windows := newFakeWindows()
			l := newLimiter(t, Zone{Name: "tpm", Tokens: Rate{Count: 1000, Per: time.Minute}, Algorithm: FixedWindow, Windows: windows})
			ctx, keys := context.Background(), []string{"k"}
			old, _ := l.AdmitSpend(ctx, keys, Spend{Tokens: 500})
			windows.advance(61 * time.Second)
			if tt.other {
				if tk, _ := l.AdmitSpend(ctx, keys, Spend{Tokens: 300}); !tk.Allowed {
					t.Fatal("request in the new window refused")
				}
			}
			if err := old.Settle(ctx, Spend{Tokens: tt.used}); err != nil {
				t.Fatal(err)
			}
			if got := remainingOf(t, l, "tpm", tokenMeter, "k"); got != tt.want {
				t.Fatalf("%d tokens left in the new window, want %d", got, tt.want)
			}
		})
	}
}

func TestWindowMoved(t *testing.T) {
	tests := []struct {
		now, then int64
		per       time.Duration
		want      bool
	}{
		{100, 100, time.Minute, false},
		{101, 100, time.Minute, false}, // rounding of one window
		{99, 100, time.Minute, false},
		{160, 100, time.Minute, true},
		{131, 100, time.Minute, true},
		{102, 100, 2 * time.Second, true},
		{101, 100, time.Second, false}, // too short to tell: left to the count
	}
	for _, tt := range tests {
		if got := windowMoved(tt.now, tt.then, tt.per); got != tt.want {
			t.Errorf("windowMoved(%d, %d, %s) = %v", tt.now, tt.then, tt.per, got)
		}
	}
}

func TestSettleReportsStoreFailure(t *testing.T) {
	store, _ := newFrozenStore(t)
	l := newLimiter(t,
		Zone{Name: "broken", Tokens: Rate{Count: 1000, Per: time.Minute}, Buckets: failingAdjust{store}},
		Zone{Name: "good", Tokens: Rate{Count: 1000, Per: time.Minute}, Buckets: store},
	)
	ctx := context.Background()
	tk, _ := l.AdmitSpend(ctx, []string{"k", "k"}, Spend{Tokens: 300})
	if err := tk.Settle(ctx, Spend{Tokens: 100}); !errors.Is(err, errStoreDown) {
		t.Fatalf("error %v, want the store's", err)
	}
	if got := remainingOf(t, l, "good", tokenMeter, "k"); got != 900 {
		t.Fatalf("the good zone was not corrected: %d left, want 900", got)
	}
}
