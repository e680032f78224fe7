package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

// Many requests at once, each on a bucket of its own and all on one hot
// bucket: their takes share round trips, and each bucket still decides
// exactly, the hot one seeing its key several times in one script.
func TestConcurrentTakesShareRoundTrips(t *testing.T) {
	for _, tt := range []struct {
		name   string
		client func(t *testing.T) (*redisclient.Client, *roundTrips)
	}{
		{"one server", countedClient},
		{"cluster", func(t *testing.T) (*redisclient.Client, *roundTrips) {
			c := testredis.StartCluster(t, 3, 0).Client(redisclient.Options{})
			trips := new(roundTrips)
			c.Universal.AddHook(trips)
			return c, trips
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, trips := tt.client(t)
			s := New(c.Universal, Options{Waiter: c})
			const (
				requests = 64
				depth    = 3
				hotDepth = 10
			)
			ctx := context.Background()
			var hotAdmitted atomic.Int64
			var wg sync.WaitGroup
			var sent int64
			alone, pipelines, _ := trips.during(func() {
				for i := range requests {
					wg.Go(func() {
						own := storetest.Key(fmt.Sprint("own", i))
						for n := range depth + 1 {
							takes := []limiter.BatchTake{
								{Key: own, Cost: time.Hour, Limit: depth * time.Hour},
								{Key: storetest.Key("hot"), Cost: time.Hour, Limit: hotDepth * time.Hour},
							}
							if err := s.TakeMany(ctx, takes); err != nil {
								t.Error(err)
								return
							}
							if got, want := takes[0].Decision.Allowed, n < depth; got != want {
								t.Errorf("request %d, take %d of its own bucket of depth %d: allowed %v", i, n+1, depth, got)
							}
							if takes[1].Decision.Allowed {
								hotAdmitted.Add(1)
							}
						}
					})
				}
				wg.Wait()
				sent = requests * (depth + 1)
			})
			if hotAdmitted.Load() != hotDepth {
				t.Errorf("the hot bucket of depth %d admitted %d", hotDepth, hotAdmitted.Load())
			}
			t.Logf("%d takes of two keys in %d commands and %d pipelines", sent, alone, pipelines)
			if trips := alone + pipelines; trips >= sent {
				t.Errorf("%d concurrent takes made %d round trips; want them shared", sent, trips)
			}
		})
	}
}

// slowFirst holds back the first command after it is armed, and closes
// held as it starts to.
type slowFirst struct {
	armed atomic.Bool
	delay time.Duration
	held  chan struct{}
}

func (h *slowFirst) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *slowFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.armed.CompareAndSwap(true, false) {
			close(h.held)
			time.Sleep(h.delay)
		}
		return next(ctx, cmd)
	}
}

func (h *slowFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A request that leaves while it waits for a round trip out (another's,
// then its own queued run) returns at once, and fails none of the
// requests that share its run.
func TestARequestLeavingFailsNoOther(t *testing.T) {
	c := testredis.Client(t, testredis.Start(t))
	s := New(c.Universal, Options{Waiter: c})
	hook := &slowFirst{delay: 300 * time.Millisecond, held: make(chan struct{})}
	c.Redis.AddHook(hook)
	hook.armed.Store(true)

	var wg sync.WaitGroup
	ahead := make([]error, 1)
	wg.Go(func() { _, ahead[0] = s.Take(context.Background(), storetest.Key("ahead"), time.Second, time.Hour, 0) })
	<-hook.held
	leaving, leave := context.WithCancel(context.Background())
	var stays limiter.Decision
	var staysErr error
	wg.Go(func() {
		stays, staysErr = s.Take(context.Background(), storetest.Key("stays"), time.Second, time.Hour, 0)
	})
	time.AfterFunc(20*time.Millisecond, leave)
	start := time.Now()
	_, err := s.Take(leaving, storetest.Key("leaves"), time.Second, time.Hour, 0)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || took > 250*time.Millisecond {
		t.Fatalf("the leaving request returned after %s with %v; want context.Canceled at once", took, err)
	}
	wg.Wait()
	if ahead[0] != nil || staysErr != nil || !stays.Allowed {
		t.Fatalf("the requests that stayed: %v; %+v, %v", ahead[0], stays, staysErr)
	}
}

// A request waits for a shared round trip no longer than what is left of
// its Redis budget: on a frozen server its first take spends the budget,
// and its next fails at once (unsent, or after the few microseconds the
// first left).
func TestSharedRoundTripsKeepTheBudget(t *testing.T) {
	srv := testredis.Start(t)
	c, err := redisclient.New(srv.URL(), redisclient.Options{CommandTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := New(c.Universal, Options{Waiter: c})
	key := storetest.Key("k")
	if _, err := s.Take(context.Background(), key, time.Second, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	defer srv.Thaw()
	ctx := redisclient.WithBudget(context.Background())
	start := time.Now()
	_, err = s.Take(ctx, key, time.Second, time.Hour, 0)
	if took := time.Since(start); err == nil || took > time.Second {
		t.Fatalf("take on a frozen server: %v after %s; want a failure within the budget", err, took)
	}
	start = time.Now()
	_, err = s.Take(ctx, key, time.Second, time.Hour, 0)
	spent := errors.Is(err, redisclient.ErrBudgetSpent) || errors.Is(err, redisclient.ErrTimeout)
	if took := time.Since(start); !spent || took > 50*time.Millisecond {
		t.Fatalf("second take of the request: %v after %s; want the budget spent at once", err, took)
	}
}
