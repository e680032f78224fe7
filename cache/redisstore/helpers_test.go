package redisstore

import (
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// newStore returns a store on a fresh server and the client under it.
func newStore(t testing.TB) (*Store, *redisclient.Client) {
	t.Helper()
	c := testredis.Client(t, testredis.Start(t))
	return New(c.Redis, Options{}), c
}
