package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

// charged reports the backlog of the bucket of key: what was charged to it
// and not yet drained. The take that reads it charges nothing (its cost is
// 0) and goes after any round trip out.
func charged(t *testing.T, s *Store, key limiter.Key) time.Duration {
	t.Helper()
	d, err := s.Take(context.Background(), key, 0, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d.Wait
}

// A take whose request stops waiting before the run it queued in is sent
// is not charged: TakeMany failed, and on a failure only the takes whose
// Decision is Allowed were charged (limiter.BatchStore). Were it charged,
// a request refused for a slow Redis (on_storage_error closed) would lose
// its client quota all the same, and a token reservation would be held
// that nobody corrects or gives back.
func TestATakeGivenUpBeforeItsRunIsSentIsNotCharged(t *testing.T) {
	for _, tt := range []struct {
		name string
		// leave returns the context of the request that gives up.
		leave func(t *testing.T, c *redisclient.Client) context.Context
		want  error
	}{
		{"its context ends", func(t *testing.T, _ *redisclient.Client) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, context.DeadlineExceeded},
		{"its Redis budget is spent", func(t *testing.T, c *redisclient.Client) context.Context {
			// Blocking pops on an empty list spend the whole budget. Each
			// runs until its deadline, the budget's end; one that fails
			// sooner (a connection not up yet) leaves some, which the
			// next spends.
			ctx := redisclient.WithBudget(context.Background())
			for range 100 {
				err := c.Universal.BLPop(ctx, 0, "llmgate:test:empty").Err()
				if errors.Is(err, redisclient.ErrBudgetSpent) {
					return ctx
				}
				if err == nil {
					t.Fatal("a blocking pop on an empty list answered")
				}
			}
			t.Fatal("100 blocking pops did not spend the budget")
			return nil
		}, redisclient.ErrBudgetSpent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := testredis.Client(t, testredis.Start(t))
			s := New(c.Universal, Options{Waiter: c})
			ctx := tt.leave(t, c)
			hook := &slowFirst{delay: 300 * time.Millisecond, held: make(chan struct{})}
			c.Redis.AddHook(hook)
			hook.armed.Store(true)

			var wg sync.WaitGroup
			var aheadErr error
			wg.Go(func() {
				_, aheadErr = s.Take(context.Background(), storetest.Key("ahead"), time.Second, time.Hour, 0)
			})
			<-hook.held
			key := storetest.Key("gives up")
			start := time.Now()
			_, err := s.Take(ctx, key, time.Hour, 2*time.Hour, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("take of the request that gives up: %v, want %v", err, tt.want)
			}
			if took := time.Since(start); took > 200*time.Millisecond {
				t.Fatalf("the request gave up after %s, not at once", took)
			}
			wg.Wait()
			if aheadErr != nil {
				t.Fatal(aheadErr)
			}
			if d := charged(t, s, key); d != 0 {
				t.Fatalf("a take that failed (and was not Allowed) was charged: the bucket holds %s", d)
			}
		})
	}
}

// Two gateway instances of 32 concurrent clients each, all on one
// bucket: the bucket admits exactly its depth, whatever the runs the
// takes share.
func TestTwoInstancesOfConcurrentClientsAdmitExactly(t *testing.T) {
	srv := testredis.Start(t)
	const (
		instances = 2
		clients   = 32
		each      = 8
		depth     = 100
	)
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	key := storetest.Key("exact")
	for range instances {
		c := testredis.Client(t, srv)
		s := New(c.Universal, Options{Waiter: c})
		for range clients {
			wg.Go(func() {
				for range each {
					ctx := redisclient.WithBudget(context.Background())
					d, err := s.Take(ctx, key, time.Hour, depth*time.Hour, 0)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						admitted.Add(1)
					} else {
						refused.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if admitted.Load() != depth || refused.Load() != instances*clients*each-depth {
		t.Fatalf("admitted %d and refused %d of %d takes on a bucket of depth %d",
			admitted.Load(), refused.Load(), instances*clients*each, depth)
	}
}

// While the server is frozen, requests keep coming and queue behind the
// run out: each fails within its Redis budget, none hangs, and once the
// server thaws the store answers again.
func TestRunsQueuedOnAFrozenServerFailWithinTheBudget(t *testing.T) {
	srv := testredis.Start(t)
	c := testredis.Client(t, srv)
	s := New(c.Universal, Options{Waiter: c})
	if _, err := s.Take(context.Background(), storetest.Key("warm"), time.Second, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	thawed := false
	defer func() {
		if !thawed {
			srv.Thaw()
		}
	}()
	var wg sync.WaitGroup
	var slowest atomic.Int64
	var failed atomic.Int64
	stop := time.Now().Add(1500 * time.Millisecond)
	for i := range 64 {
		wg.Go(func() {
			for n := 0; time.Now().Before(stop); n++ {
				ctx := redisclient.WithBudget(context.Background())
				start := time.Now()
				_, err := s.Take(ctx, storetest.Key(fmt.Sprint("k", i, ".", n)), time.Second, time.Hour, 0)
				took := time.Since(start)
				for {
					old := slowest.Load()
					if int64(took) <= old || slowest.CompareAndSwap(old, int64(took)) {
						break
					}
				}
				if err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	srv.Thaw()
	thawed = true
	t.Logf("%d takes failed; the slowest took %s", failed.Load(), time.Duration(slowest.Load()))
	if failed.Load() == 0 {
		t.Fatal("takes on a frozen server succeeded")
	}
	// The budget, and the scheduling of 64 goroutines on a small machine.
	if bound := redisclient.DefaultCommandTimeout + 250*time.Millisecond; time.Duration(slowest.Load()) > bound {
		t.Fatalf("a take on a frozen server took %s, beyond the budget of %s", time.Duration(slowest.Load()), redisclient.DefaultCommandTimeout)
	}
	deadline := time.Now().Add(testredis.HangGuard)
	for {
		_, err := s.Take(context.Background(), storetest.Key("after"), time.Second, time.Hour, 0)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store still fails after the thaw: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// After a restart the server has forgotten the script: a run of many
// takes, several of one key, loads it again and decides each exactly.
func TestARunOfManyTakesAfterARestart(t *testing.T) {
	srv := testredis.Start(t)
	c := testredis.Client(t, srv)
	s := New(c.Universal, Options{Waiter: c})
	if _, err := s.Take(context.Background(), storetest.Key("warm"), time.Second, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	const keys, repeats, depth = 2000, 3, 2
	takes := make([]limiter.BatchTake, 0, keys*repeats)
	for range repeats {
		for i := range keys {
			takes = append(takes, limiter.BatchTake{Key: storetest.Key(fmt.Sprint("many", i)), Cost: time.Hour, Limit: depth * time.Hour})
		}
	}
	if err := s.TakeMany(context.Background(), takes); err != nil {
		t.Fatal(err)
	}
	for j, tk := range takes {
		if want := j/keys < depth; tk.Decision.Allowed != want {
			t.Fatalf("take %d (key %d, its take %d in a bucket of depth %d): allowed %v", j, j%keys, j/keys+1, depth, tk.Decision.Allowed)
		}
	}
}
