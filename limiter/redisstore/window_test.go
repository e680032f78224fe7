package redisstore

import (
	"context"
	"testing"
	"time"

	ulule "github.com/ulule/limiter/v3"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

// TestWindowStoresShareCounts: two clients' window stores count one window,
// on one server and on a cluster (where ulule's scripts, one key each,
// run on the key's node).
func TestWindowStoresShareCounts(t *testing.T) {
	tests := []struct {
		name    string
		clients func(t *testing.T) (a, b *redisclient.Client)
	}{
		{"one server", func(t *testing.T) (a, b *redisclient.Client) {
			srv := testredis.Start(t)
			return testredis.Client(t, srv), testredis.Client(t, srv)
		}},
		{"cluster", func(t *testing.T) (a, b *redisclient.Client) {
			c := testredis.StartCluster(t, 3, 0)
			return c.Client(redisclient.Options{}), c.Client(redisclient.Options{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.clients(t)
			stores := []ulule.Store{NewWindowStore(a.Universal, Options{}), NewWindowStore(b.Universal, Options{})}
			ctx := context.Background()
			rate := ulule.Rate{Period: time.Hour, Limit: 3}
			reached := []bool{false, false, false, true, true}
			for _, name := range []string{"k", "l", "m"} { // in three slots
				key := storetest.Key(name).String()
				for i, want := range reached {
					res, err := stores[i%2].Increment(ctx, key, 1, rate)
					if err != nil {
						t.Fatal(err)
					}
					if res.Reached != want {
						t.Fatalf("request %d: reached %v, want %v", i+1, res.Reached, want)
					}
				}
				ttl, err := a.Universal.PTTL(ctx, "llmgate:rl:win:"+key).Result()
				if err != nil {
					t.Fatal(err)
				}
				if ttl <= 0 || ttl > time.Hour {
					t.Fatalf("window key lives %s, want up to an hour", ttl)
				}
			}
		})
	}
}

func TestWindowStoreStartsWhileRedisIsDown(t *testing.T) {
	srv := testredis.Start(t)
	srv.Stop()
	w := NewWindowStore(testredis.Client(t, srv).Redis, Options{KeyPrefix: "x:"})
	ctx, rate := context.Background(), ulule.Rate{Period: time.Minute, Limit: 10}
	if _, err := w.Increment(ctx, "k", 1, rate); err == nil {
		t.Fatal("counted with Redis down")
	}
	srv.Restart()
	harness.Eventually(t, "the window store to work", func() bool {
		_, err := w.Increment(ctx, "k", 1, rate)
		return err == nil
	})
	res, err := w.Peek(ctx, "k", rate)
	if err != nil {
		t.Fatal(err)
	}
	if res.Remaining != 9 {
		t.Fatalf("remaining %d, want 9", res.Remaining)
	}
}
