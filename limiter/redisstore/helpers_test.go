package redisstore

import (
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
	s, clock := frozenStore(c, "")
	return s, clock, c
}

// frozenStore returns a store over c, its keys under prefix, whose clock
// moves only when told.
func frozenStore(c *redisclient.Client, prefix string) (*Store, *harness.Clock) {
	clock := new(harness.Clock)
	s := New(c.Universal, Options{KeyPrefix: prefix})
	s.now = func() int64 { return clock.Now().UnixMicro() }
	return s, clock
}

// keysHeld counts the bucket keys in Redis under prefix.
func keysHeld(t testing.TB, rdb redis.UniversalClient, prefix string) int {
	t.Helper()
	return len(testredis.Keys(t, rdb, prefix+"rl:*"))
}
