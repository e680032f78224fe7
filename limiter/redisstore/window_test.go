package redisstore

import (
	"context"
	"testing"
	"time"

	ulule "github.com/ulule/limiter/v3"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

func TestWindowStoresShareCounts(t *testing.T) {
	srv := testredis.Start(t)
	c := testredis.Client(t, srv)
	stores := []ulule.Store{NewWindowStore(c.Redis, Options{}), NewWindowStore(testredis.Client(t, srv).Redis, Options{})}
	ctx, key := context.Background(), storetest.Key("k").String()
	rate := ulule.Rate{Period: time.Hour, Limit: 3}
	reached := []bool{false, false, false, true, true}
	for i, want := range reached {
		res, err := stores[i%2].Increment(ctx, key, 1, rate)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reached != want {
			t.Fatalf("request %d: reached %v, want %v", i+1, res.Reached, want)
		}
	}
	ttl, err := c.Redis.PTTL(ctx, "llmgate:rl:win:"+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > time.Hour {
		t.Fatalf("window key lives %s, want up to an hour", ttl)
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
