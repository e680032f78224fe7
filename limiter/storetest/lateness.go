package storetest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// testLateness: a charge arriving after the TAT counts from
// max(TAT, now - slack), so a request late by less than its slack loses
// nothing, and one later loses only what is beyond the slack.
func testLateness(t *testing.T, open func(t *testing.T) Store) {
	const ms = time.Millisecond
	// One request every 2 ms, depth 1: a slack of 1 ms.
	const interval = 2 * ms
	slack := limiter.Slack(interval)
	if slack != ms {
		t.Fatalf("slack of a %s interval = %s, want 1ms", interval, slack)
	}
	s := open(t)
	key := Key("late")
	for i, st := range []struct {
		advance time.Duration
		want    limiter.Decision
	}{
		// A fresh bucket is one drained long ago: counted from now - slack.
		{0, limiter.Decision{Allowed: true, Wait: 0, Backlog: interval - ms}}, // TAT 1ms
		// 0.3 ms late: counted from the TAT, as if on time.
		{1300 * time.Microsecond, limiter.Decision{Allowed: true, Wait: 0, Backlog: 1700 * time.Microsecond}}, // TAT 3ms
		// 0.2 ms early: no room yet.
		{1500 * time.Microsecond, limiter.Decision{Allowed: false, Wait: 200 * time.Microsecond, Backlog: 2200 * time.Microsecond}},
		// 0.9 ms late: still counted from the TAT.
		{1100 * time.Microsecond, limiter.Decision{Allowed: true, Wait: 0, Backlog: 1100 * time.Microsecond}}, // TAT 5ms
		// 2.9 ms late: counted from now - slack, losing 1.9 ms.
		{4 * ms, limiter.Decision{Allowed: true, Wait: 0, Backlog: ms}}, // TAT 8.9ms
	} {
		s.Advance(st.advance)
		d, err := s.Take(context.Background(), key, interval, interval, slack)
		if err != nil {
			t.Fatal(err)
		}
		if d != st.want {
			t.Fatalf("step %d: got %+v, want %+v", i, d, st.want)
		}
	}
	// Drained 0.3 ms ago: a read sees an empty bucket and changes
	// nothing, and the key is held, so the next charge still counts from
	// the TAT.
	s.Advance(1300 * time.Microsecond)
	if b := Backlog(t, s, key); b != 0 {
		t.Fatalf("backlog of a drained bucket read as %s", b)
	}
	if n := s.Keys(); n != 1 {
		t.Fatalf("%d keys held %s after the TAT, want 1", n, limiter.MaxSlack)
	}
	d, err := s.Take(context.Background(), key, interval, interval, slack)
	if err != nil {
		t.Fatal(err)
	}
	if want := (limiter.Decision{Allowed: true, Wait: 0, Backlog: 1700 * time.Microsecond}); d != want {
		t.Fatalf("after the read: got %+v, want %+v", d, want)
	}
}

// testBurstAtOneInstant: the credit never adds a unit to a bucket: at one
// instant, on a fresh bucket and on one drained a moment ago, a burst of
// charges of n units takes exactly the whole charges that fit in depth.
func testBurstAtOneInstant(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name     string
		interval time.Duration // of one unit
		depth, n int64         // units
	}{
		{"requests, depth 1", 2 * time.Millisecond, 1, 1},
		{"requests, depth 10", 2 * time.Millisecond, 10, 1},
		{"a slow rate, depth 3", time.Minute, 3, 1},
		{"a fast rate, depth 5", 10 * time.Microsecond, 5, 1},
		{"tokens, 7 a charge", time.Millisecond, 50, 7},
		// A slack of half a charge, not of a unit, would take a third.
		{"tokens, 4 a charge", 100 * time.Microsecond, 10, 4},
		{"microdollars, 300 a charge", 3456 * time.Microsecond, 1000, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			cost, limit, slack := time.Duration(tt.n)*tt.interval, time.Duration(tt.depth)*tt.interval, limiter.Slack(tt.interval)
			want := tt.depth / tt.n
			burst := func() int64 {
				t.Helper()
				var got int64
				for range want + 3 {
					d, err := s.Take(context.Background(), Key("burst"), cost, limit, slack)
					if err != nil {
						t.Fatal(err)
					}
					if d.Allowed {
						got++
					}
				}
				return got
			}
			if got := burst(); got != want {
				t.Fatalf("a fresh bucket admitted %d charges of %d units at once, want %d", got, tt.n, want)
			}
			// Drained by half the slack: within the credit.
			s.Advance(time.Duration(want)*cost + slack/2)
			if got := burst(); got != want {
				t.Fatalf("a bucket drained %s ago admitted %d charges of %d units at once, want %d", slack/2, got, tt.n, want)
			}
		})
	}
}

// testWindowBound: over any span of time, however requests arrive, a
// bucket admits at most depth + span/interval + 1 (the credit), and
// requests arriving at least every slack use every interval.
func testWindowBound(t *testing.T, open func(t *testing.T) Store) {
	const interval = 2 * time.Millisecond // 500 a second
	slack := limiter.Slack(interval)
	for _, depth := range []int64{1, 3} {
		s := open(t)
		rng := rand.New(rand.NewPCG(uint64(depth), 24))
		var now time.Duration
		var admitted []time.Duration
		for range 3000 {
			// Bursts, gaps within the slack and gaps beyond it.
			gap := time.Duration(rng.IntN(6)) * 500 * time.Microsecond
			if rng.IntN(4) == 0 {
				gap = 0
			}
			s.Advance(gap)
			now += gap
			d, err := s.Take(context.Background(), Key("window"), interval, time.Duration(depth)*interval, slack)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				admitted = append(admitted, now)
			}
		}
		for i := range admitted {
			for j := i; j < len(admitted); j++ {
				span := admitted[j] - admitted[i]
				if n, bound := int64(j-i+1), depth+int64(span/interval)+1; n > bound {
					t.Fatalf("depth %d: %d admitted within %s, more than %d", depth, n, span, bound)
				}
			}
		}
	}
	// A request every 150 µs, less than the slack late at worst: one
	// second admits the rate's 500 and the depth of 1, each interval used
	// whole. Charged from now, each would lose 75 µs on average, about 18
	// requests a second.
	s := open(t)
	admitted := 0
	for i := range int(time.Second / (150 * time.Microsecond)) {
		if i > 0 {
			s.Advance(150 * time.Microsecond)
		}
		d, err := s.Take(context.Background(), Key("steady"), interval, interval, slack)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			admitted++
		}
	}
	if admitted != 501 {
		t.Fatalf("%d admitted in a second at 500/s and depth 1, want 501", admitted)
	}
}
