package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

// TestConformance: a store shared through Redis decides exactly as the
// one in memory, on the same tests.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, clock, c := newFrozenStore(t)
		return storetest.Store{BucketStore: s, Advance: clock.Advance, Keys: func() int { return keysHeld(t, c.Universal, "llmgate:") }}
	})
}

// TestConformanceOnACluster: over a Redis Cluster, its buckets spread over
// every node, the store decides as over one server: each script touches
// one key, so one hash slot. The tests share one cluster, each under a
// prefix of its own.
func TestConformanceOnACluster(t *testing.T) {
	c := testredis.StartCluster(t, 3, 0).Client(redisclient.Options{})
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) storetest.Store {
		prefix := fmt.Sprintf("t%d:", n.Add(1))
		s, clock := frozenStore(c, prefix)
		return storetest.Store{BucketStore: s, Advance: clock.Advance, Keys: func() int { return keysHeld(t, c.Universal, prefix) }}
	})
}

func TestKeysExpireAfterTheirTAT(t *testing.T) {
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
			ctx, key := context.Background(), storetest.Key("k")
			if _, err := s.Take(ctx, key, tt.cost, 2*time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			name := tt.wantKey + key.String()
			ttl, err := c.Redis.PTTL(ctx, name).Result()
			if err != nil {
				t.Fatal(err)
			}
			// The TTL ends limiter.MaxSlack after the TAT, a cost away (a
			// missing key has a negative TTL); the test is far too short
			// to eat half of it.
			if want := tt.cost + limiter.MaxSlack; ttl > want || ttl < tt.cost/2 {
				t.Fatalf("key %s lives %s, want %s", name, ttl, want)
			}
		})
	}
}

func TestStoresSharingRedisEnforceOneLimit(t *testing.T) {
	srv := testredis.Start(t)
	stores := []*Store{New(testredis.Client(t, srv).Redis, Options{}), New(testredis.Client(t, srv).Redis, Options{})}
	ctx, key := context.Background(), storetest.Key("shared")
	// A bucket of depth 5 refilling once an hour: no refill during the test.
	admitted := 0
	for i := range 20 {
		d, err := stores[i%2].Take(ctx, key, time.Hour, 5*time.Hour, 0)
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
// admits more than its rate allows over the time plus its depth, and one
// for the lateness credit.
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
	ctx, key := context.Background(), storetest.Key("hot")
	var admitted, refused, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	stop := start.Add(run)
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 32 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					d, err := s.Take(ctx, key, interval, burst*interval, interval/2)
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
	// Half an interval of lateness credit may admit one more.
	bound := int64(elapsed/interval) + burst + 1
	t.Logf("%d admitted, %d refused, %d failed in %s; bound %d", admitted.Load(), refused.Load(), failed.Load(), elapsed, bound)
	if failed.Load() > 0 {
		t.Errorf("%d takes failed, the first with %v", failed.Load(), firstErr.Load())
	}
	if admitted.Load() > bound {
		t.Fatalf("admitted %d, more than %d", admitted.Load(), bound)
	}
}

func TestOutages(t *testing.T) {
	for _, tt := range testredis.Outages {
		t.Run(tt.Name, func(t *testing.T) {
			srv := testredis.Start(t)
			c := testredis.Client(t, srv)
			s := New(c.Redis, Options{Waiter: c})
			ctx, key := context.Background(), storetest.Key("k")
			if _, err := s.Take(ctx, key, time.Hour, 2*time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			tt.Fail(srv)
			testredis.FailFast(t,
				func() error { _, err := s.Take(ctx, key, time.Second, time.Hour, 0); return err },
				func() error { return s.Adjust(ctx, key, -time.Second) },
			)
			tt.Repair(srv)
			var d limiter.Decision
			harness.Eventually(t, "the store to recover", func() bool {
				var err error
				d, err = s.Take(ctx, key, 0, time.Hour, 0)
				return err == nil
			})
			// A command that timed out on the frozen server may still run
			// when it thaws: only whether the state survived is certain.
			if kept := d.Backlog > 0; kept == tt.Empties {
				t.Fatalf("after the repair the backlog is %s; want the state lost: %v", d.Backlog, tt.Empties)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	s := New(testredis.Client(t, testredis.Start(t)).Redis, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Take(ctx, storetest.Key("k"), time.Second, time.Hour, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Take with a cancelled context: %v", err)
	}
}
