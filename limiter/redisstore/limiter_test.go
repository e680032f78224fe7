package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/redisstore"
)

// Two gateway instances, each with its own Limiter and Redis client, with
// a limit of 10 requests per hour: together they admit 10, not 20.
func TestLimitersSharingRedisAdmitTogether(t *testing.T) {
	tests := []struct {
		name      string
		algorithm limiter.Algorithm
	}{
		{"token bucket", limiter.TokenBucket},
		{"fixed window", limiter.FixedWindow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testredis.Start(t)
			instances := []*limiter.Limiter{newLimiter(t, srv, tt.algorithm), newLimiter(t, srv, tt.algorithm)}
			admitted := 0
			for i := range 30 {
				ticket, err := instances[i%2].Admit(context.Background(), []string{"Bearer sk-shared"})
				if err != nil {
					t.Fatal(err)
				}
				if ticket.Allowed {
					admitted++
				}
				ticket.Done()
			}
			if admitted != 10 {
				t.Fatalf("admitted %d, want 10", admitted)
			}
		})
	}
}

// newLimiter is one gateway instance's limiter on srv.
func newLimiter(t *testing.T, srv *testredis.Server, algorithm limiter.Algorithm) *limiter.Limiter {
	t.Helper()
	c, err := redisclient.New(srv.URL(), redisclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	l, err := limiter.New([]limiter.Zone{{
		Name:      "per_key",
		Requests:  limiter.Rate{Count: 10, Per: time.Hour},
		Algorithm: algorithm,
		Buckets:   redisstore.New(c.Redis, redisstore.Options{KeyPrefix: c.Prefix}),
		Windows:   redisstore.NewWindowStore(c.Redis, redisstore.Options{KeyPrefix: c.Prefix}),
	}}, limiter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}
