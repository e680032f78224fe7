package redisstore

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// The table of the memory store's tests: a store shared through Redis
// must decide exactly as the one in memory.
func TestTake(t *testing.T) {
	const sec = time.Second
	const third = sec/3 + 1 // the limiter rounds a third of a second up
	// (the clock, like Redis's, moves in whole microseconds)
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
			s, clock, _ := newFrozenStore(t)
			key := testKey("k")
			for i, st := range tt.steps {
				clock.Advance(st.advance)
				d, err := s.Take(context.Background(), key, st.cost, st.limit)
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

func TestAdjust(t *testing.T) {
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
			s, clock, c := newFrozenStore(t)
			ctx, key := context.Background(), testKey("k")
			for range tt.charges {
				if d, _ := s.Take(ctx, key, sec, time.Hour); !d.Allowed {
					t.Fatal("charge refused")
				}
			}
			clock.Advance(tt.advance)
			if err := s.Adjust(ctx, key, tt.delta); err != nil {
				t.Fatal(err)
			}
			if got := keysHeld(t, c.Redis); got != tt.keys {
				t.Errorf("keys held = %d, want %d", got, tt.keys)
			}
			if got := backlog(t, s, key); got != tt.want {
				t.Errorf("backlog = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestKeysExpireAtTheirTAT(t *testing.T) {
	tests := []struct {
		name            string
		prefix, wantKey string
		cost            time.Duration
	}{
		{"default prefix", "", "llmgate:rl:", 90 * time.Second},
		{"own prefix", "prod:", "prod:rl:", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testredis.Client(t, testredis.Start(t))
			s := New(c.Redis, Options{KeyPrefix: tt.prefix})
			ctx, key := context.Background(), testKey("k")
			if _, err := s.Take(ctx, key, tt.cost, 2*time.Hour); err != nil {
				t.Fatal(err)
			}
			name := tt.wantKey + key.String()
			ttl, err := c.Redis.PTTL(ctx, name).Result()
			if err != nil {
				t.Fatal(err)
			}
			// The TTL ends at the TAT, a cost away (a missing key has a
			// negative TTL); the test is far too short to eat half of it.
			if ttl > tt.cost || ttl < tt.cost/2 {
				t.Fatalf("key %s lives %s, want %s", name, ttl, tt.cost)
			}
		})
	}
}

func TestStoresSharingRedisEnforceOneLimit(t *testing.T) {
	srv := testredis.Start(t)
	stores := []*Store{New(testredis.Client(t, srv).Redis, Options{}), New(testredis.Client(t, srv).Redis, Options{})}
	ctx, key := context.Background(), testKey("shared")
	// A bucket of depth 5 refilling once an hour: no refill during the test.
	admitted := 0
	for i := range 20 {
		d, err := stores[i%2].Take(ctx, key, time.Hour, 5*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			admitted++
		}
	}
	if admitted != 5 {
		t.Fatalf("two stores admitted %d, want 5 together", admitted)
	}
}

// Two stores, 32 goroutines each, for two seconds: the shared bucket never
// admits more than its rate allows over the time plus its depth.
func TestConcurrentTakesNeverOveradmit(t *testing.T) {
	srv := testredis.Start(t)
	// Timeouts loose enough for a loaded test machine: this test is about
	// atomicity; the outage tests cover the gateway's timeouts.
	patient := redisclient.Options{ReadTimeout: 5 * time.Second, PoolTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second}
	var stores []*Store
	for range 2 {
		c, err := redisclient.New(srv.URL(), patient)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		stores = append(stores, New(c.Redis, Options{}))
	}
	const (
		interval = time.Millisecond // 1000 a second
		burst    = 10
		run      = 2 * time.Second
	)
	ctx, key := context.Background(), testKey("hot")
	var admitted, refused, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	stop := start.Add(run)
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 32 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					d, err := s.Take(ctx, key, interval, burst*interval)
					switch {
					case err != nil:
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					case d.Allowed:
						admitted.Add(1)
					default:
						refused.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	bound := int64(elapsed/interval) + burst
	t.Logf("%d admitted, %d refused, %d failed in %s; bound %d", admitted.Load(), refused.Load(), failed.Load(), elapsed, bound)
	if failed.Load() > 0 {
		t.Errorf("%d takes failed, the first with %v", failed.Load(), firstErr.Load())
	}
	if admitted.Load() > bound {
		t.Fatalf("admitted %d, more than %d", admitted.Load(), bound)
	}
}

func TestOutages(t *testing.T) {
	tests := []struct {
		name         string
		fail, repair func(s *testredis.Server)
		empties      bool // whether the repair loses the state
	}{
		{"stopped and restarted", (*testredis.Server).Stop, (*testredis.Server).Restart, true},
		{"frozen and thawed", (*testredis.Server).Freeze, (*testredis.Server).Thaw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testredis.Start(t)
			s := New(testredis.Client(t, srv).Redis, Options{})
			ctx, key := context.Background(), testKey("k")
			if _, err := s.Take(ctx, key, time.Hour, 2*time.Hour); err != nil {
				t.Fatal(err)
			}
			tt.fail(srv)
			for _, op := range []func() error{
				func() error { _, err := s.Take(ctx, key, time.Second, time.Hour); return err },
				func() error { return s.Adjust(ctx, key, -time.Second) },
			} {
				start := time.Now()
				err := op()
				took := time.Since(start)
				t.Logf("failed in %s: %v", took, err)
				if err == nil {
					t.Fatal("the store answered during the outage")
				}
				if took > testredis.HangGuard {
					t.Fatalf("the store hung for %s", took)
				}
			}
			tt.repair(srv)
			var d limiter.Decision
			harness.Eventually(t, "the store to recover", func() bool {
				var err error
				d, err = s.Take(ctx, key, 0, time.Hour)
				return err == nil
			})
			// A command that timed out on the frozen server may still run
			// when it thaws: only whether the state survived is certain.
			if kept := d.Backlog > 0; kept == tt.empties {
				t.Fatalf("after the repair the backlog is %s; want the state lost: %v", d.Backlog, tt.empties)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	s := New(testredis.Client(t, testredis.Start(t)).Redis, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Take(ctx, testKey("k"), time.Second, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Take with a cancelled context: %v", err)
	}
}

func TestAdjustSaturates(t *testing.T) {
	s, _, _ := newFrozenStore(t)
	ctx, key := context.Background(), testKey("debt")
	// Far more debt than int64 nanoseconds can hold, in the largest steps
	// the limiter makes.
	for range 100 {
		if err := s.Adjust(ctx, key, time.Duration(math.MaxInt64/64)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Take(ctx, key, time.Second, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.Wait <= 0 || d.Backlog <= 0 {
		t.Fatalf("after saturated debt: %+v, want a refusal with a positive wait", d)
	}
}
