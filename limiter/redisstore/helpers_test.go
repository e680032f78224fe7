package redisstore

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// newFrozenStore returns a store on a fresh server whose clock moves only
// when told.
func newFrozenStore(t testing.TB) (*Store, *harness.Clock, *redisclient.Client) {
	t.Helper()
	c := testredis.Client(t, testredis.Start(t))
	clock := new(harness.Clock)
	s := New(c.Redis, Options{})
	s.now = func() int64 { return clock.Now().UnixMicro() }
	return s, clock, c
}

// keysHeld counts the bucket keys in Redis.
func keysHeld(t testing.TB, rdb *redis.Client) int {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), "llmgate:rl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}
