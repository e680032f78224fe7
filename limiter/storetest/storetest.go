// Package storetest checks that a limiter.BucketStore decides as the
// BucketStore contract says. Every store (in memory, in Redis) runs the
// same tests, in the style of testing/fstest, so that a limit means the
// same whichever store keeps it.
package storetest

import (
	"context"
	"crypto/sha256"
	"math"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// Store is one store under test, on a clock only the test moves.
type Store struct {
	limiter.BucketStore
	// Advance moves the store's clock forward by d.
	Advance func(d time.Duration)
	// Keys returns the number of keys the store holds.
	Keys func() int
}

// Run runs the tests, each on a fresh store from open, and those of
// limiter.BatchStore when the store is one.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Take", func(t *testing.T) { testTake(t, open) })
	t.Run("Adjust", func(t *testing.T) { testAdjust(t, open) })
	t.Run("AdjustSaturates", func(t *testing.T) { testAdjustSaturates(t, open) })
	t.Run("Promise", func(t *testing.T) { testPromise(t, open) })
	t.Run("Read", func(t *testing.T) { testRead(t, open) })
	t.Run("Lateness", func(t *testing.T) { testLateness(t, open) })
	t.Run("BurstAtOneInstant", func(t *testing.T) { testBurstAtOneInstant(t, open) })
	t.Run("WindowBound", func(t *testing.T) { testWindowBound(t, open) })
	// Stores that batch their calls are tested on their batches too.
	if s := open(t); isBatch(s) {
		t.Run("Batch", func(t *testing.T) { testBatch(t, s) })
	}
}

// testRead: a charge of nothing reads a bucket (the limiter's Peek): it
// changes no backlog and stores no key.
func testRead(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	if b := Backlog(t, s, Key("never charged")); b != 0 || s.Keys() != 0 {
		t.Fatalf("reading an unknown key: backlog %s, %d keys stored; want 0 and none", b, s.Keys())
	}
	if _, err := s.Take(ctx, Key("charged"), 3*time.Second, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if b := Backlog(t, s, Key("charged")); b != 3*time.Second {
			t.Fatalf("backlog read as %s, want the 3s charged", b)
		}
	}
	if s.Keys() != 1 {
		t.Errorf("%d keys stored after reads, want 1", s.Keys())
	}
}

// Key is a stored key derived from name, as the limiter derives one.
func Key(name string) limiter.Key {
	sum := sha256.Sum256([]byte(name))
	return limiter.Key(sum[:len(limiter.Key{})])
}

// Backlog reads the backlog of key without charging it: a charge of
// nothing, which the limit need not admit.
func Backlog(t testing.TB, s limiter.BucketStore, key limiter.Key) time.Duration {
	t.Helper()
	d, err := s.Take(context.Background(), key, 0, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d.Backlog
}

func testTake(t *testing.T, open func(t *testing.T) Store) {
	const sec = time.Second
	// A third of a second, rounded up as the limiter rounds it; the
	// clock, like Redis's, moves in whole microseconds.
	const third = sec/3 + 1
	type step struct {
		advance       time.Duration
		cost, limit   time.Duration
		allowed       bool
		wait, backlog time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"token bucket of depth 3 at 1/s", []step{
			{0, sec, 3 * sec, true, 0, sec},
			{0, sec, 3 * sec, true, sec, 2 * sec},
			{0, sec, 3 * sec, true, 2 * sec, 3 * sec},
			{0, sec, 3 * sec, false, 3 * sec, 4 * sec},
			{sec / 2, sec, 3 * sec, false, 5 * sec / 2, 7 * sec / 2},
			{sec / 2, sec, 3 * sec, true, 2 * sec, 3 * sec},
		}},
		{"drained bucket starts from now", []step{
			{0, sec, 2 * sec, true, 0, sec},
			{time.Hour, sec, 2 * sec, true, 0, sec},
		}},
		{"cost over the limit never fits", []step{
			{0, 5 * sec, 2 * sec, false, 0, 5 * sec},
		}},
		{"zero cost reads the backlog", []step{
			{0, sec, 2 * sec, true, 0, sec},
			{0, 0, 0, false, sec, sec},
			{0, 0, sec, true, sec, sec},
		}},
		{"nanoseconds are kept", []step{
			{0, third, 3 * third, true, 0, third},
			{0, third, 3 * third, true, third, 2 * third},
			{0, third, 3 * third, true, 2 * third, 3 * third},
			{0, third, 3 * third, false, 3 * third, 4 * third},
			{time.Millisecond, 1, 3 * third, true, 3*third - time.Millisecond, 3*third - time.Millisecond + 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			key := Key("k")
			for i, st := range tt.steps {
				s.Advance(st.advance)
				d, err := s.Take(context.Background(), key, st.cost, st.limit, 0)
				if err != nil {
					t.Fatal(err)
				}
				want := limiter.Decision{Allowed: st.allowed, Wait: st.wait, Backlog: st.backlog}
				if d != want {
					t.Fatalf("step %d: got %+v, want %+v", i, d, want)
				}
			}
		})
	}
}

func testAdjust(t *testing.T, open func(t *testing.T) Store) {
	const sec = time.Second
	tests := []struct {
		name    string
		charges int           // one-second charges taken first
		advance time.Duration // before the adjustment
		delta   time.Duration
		want    time.Duration // backlog after
		keys    int           // keys held after
	}{
		{"give back one of three", 3, 0, -sec, 2 * sec, 1},
		{"give back more than held empties", 1, 0, -5 * sec, 0, 0},
		{"give back on a drained bucket", 1, 2 * sec, -sec, 0, 0},
		{"give back on a missing key", 0, 0, -sec, 0, 0},
		{"debt on a missing key", 0, 0, 4 * sec, 4 * sec, 1},
		{"debt on a drained bucket counts from now", 1, 5 * sec, 2 * sec, 2 * sec, 1},
		{"debt adds to the backlog", 2, 0, 3 * sec, 5 * sec, 1},
		{"a year of debt", 0, 0, 365 * 24 * time.Hour, 365 * 24 * time.Hour, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			ctx, key := context.Background(), Key("k")
			for range tt.charges {
				if d, _ := s.Take(ctx, key, sec, time.Hour, 0); !d.Allowed {
					t.Fatal("charge refused")
				}
			}
			s.Advance(tt.advance)
			if err := s.Adjust(ctx, key, tt.delta); err != nil {
				t.Fatal(err)
			}
			if got := s.Keys(); got != tt.keys {
				t.Errorf("keys held = %d, want %d", got, tt.keys)
			}
			if got := Backlog(t, s, key); got != tt.want {
				t.Errorf("backlog = %s, want %s", got, tt.want)
			}
		})
	}
}

// testAdjustSaturates: far more debt than int64 nanoseconds can hold, in
// the largest steps the limiter makes, leaves a refusal with a wait, not
// a counter wrapped round to an empty bucket.
func testAdjustSaturates(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx, key := context.Background(), Key("debt")
	for range 100 {
		if err := s.Adjust(ctx, key, time.Duration(math.MaxInt64/64)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Take(ctx, key, time.Second, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.Wait <= 0 || d.Backlog <= 0 {
		t.Fatalf("after saturated debt: %+v, want a refusal with a positive wait", d)
	}
}

func testPromise(t *testing.T, open func(t *testing.T) Store) {
	const sec = time.Second
	s := open(t)
	ctx, key := context.Background(), Key("promises")
	promise := func(after, cost time.Duration) time.Duration {
		t.Helper()
		wait, err := s.Promise(ctx, key, after, cost, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	for i, step := range []struct {
		advance, after, cost, want time.Duration
	}{
		{0, sec, sec, sec},                         // the first: the bucket's own wait
		{0, sec, sec, 2 * sec},                     // after the first's turn
		{0, 0, 2 * sec, 3 * sec},                   // after both, however soon the bucket has room
		{4 * sec, sec, sec, 1 * sec},               // the turns have passed: the bucket's wait again
		{0, 5 * sec, sec, 5 * sec},                 // a later wait than the turns promised
		{0, 59 * sec, sec, 59 * sec},               // within the horizon
		{0, 0, sec, 60 * sec},                      // at the horizon
		{0, 0, sec, 0},                             // beyond it: not promised, told the bucket's wait
		{0, 2 * time.Minute, sec, 2 * time.Minute}, // a bucket's own wait beyond the horizon
	} {
		s.Advance(step.advance)
		if got := promise(step.after, step.cost); got != step.want {
			t.Fatalf("step %d: wait %s, want %s", i, got, step.want)
		}
	}
	// Promises are a key of their own, dropped once they have passed.
	if got := s.Keys(); got != 1 {
		t.Errorf("keys held = %d, want 1", got)
	}
	s.Advance(2 * time.Minute)
	if got := Backlog(t, s, key); got != 0 {
		t.Errorf("backlog of passed promises = %s", got)
	}
}
