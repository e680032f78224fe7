package redisstore

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
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

// threeZones returns a limiter of three zones whose buckets s keeps, as
// the gateway's are: a request rate per key, one per model, and a cost
// rate per key; limits[i] is the count per hour of the i-th.
func threeZones(t testing.TB, s *Store, limits [3]int64) *limiter.Limiter {
	t.Helper()
	l, err := limiter.New([]limiter.Zone{
		{Name: "per_key", Requests: limiter.Rate{Count: limits[0], Per: time.Hour}, Buckets: s},
		{Name: "per_model", Requests: limiter.Rate{Count: limits[1], Per: time.Hour}, Buckets: s},
		{Name: "cost", Cost: limiter.Rate{Count: limits[2], Per: time.Hour}, Buckets: s},
	}, limiter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// usageZones returns a limiter of three zones that meter usage, their
// buckets in s: tokens, prompt and generated tokens, and cost, per hour.
func usageZones(t testing.TB, s limiter.BucketStore) *limiter.Limiter {
	t.Helper()
	l, err := limiter.New([]limiter.Zone{
		{Name: "tpm", Tokens: limiter.Rate{Count: 10000, Per: time.Hour}, Buckets: s},
		{Name: "io", TokensIn: limiter.Rate{Count: 5000, Per: time.Hour}, TokensOut: limiter.Rate{Count: 500, Per: time.Hour}, Buckets: s},
		{Name: "cost", Cost: limiter.Rate{Count: 1000, Per: time.Hour}, Buckets: s},
	}, limiter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// sequential is a Store seen only as a limiter.BucketStore: the limiter
// then charges and corrects its zones one command at a time.
type sequential struct{ limiter.BucketStore }
