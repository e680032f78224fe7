package redisstore

import (
	"context"
	"crypto/sha256"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// fakeClock stands in for the Redis clock, in microseconds, so a test can
// predict decisions exactly.
type fakeClock struct{ us atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.us.Store(1_700_000_000_000_000) // a Unix time, like the Redis clock's
	return c
}

func (c *fakeClock) now() int64              { return c.us.Load() }
func (c *fakeClock) Advance(d time.Duration) { c.us.Add(d.Microseconds()) }

// newFrozenStore returns a store on a fresh server whose clock moves only
// when told.
func newFrozenStore(t testing.TB) (*Store, *fakeClock, *redisclient.Client) {
	t.Helper()
	c := testredis.Client(t, testredis.Start(t))
	clock := newFakeClock()
	s := New(c.Redis, Options{})
	s.now = clock.now
	return s, clock, c
}

// testKey is a stored key derived from name, as the limiter derives one.
func testKey(name string) limiter.Key {
	sum := sha256.Sum256([]byte(name))
	return limiter.Key(sum[:len(limiter.Key{})])
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

// backlog reads the backlog of key without charging it.
func backlog(t testing.TB, s *Store, key limiter.Key) time.Duration {
	t.Helper()
	d, err := s.Take(context.Background(), key, 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return d.Backlog
}
