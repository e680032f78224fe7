package redisstore

import (
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// hangGuard is far above any timeout of the client: a call that takes
// longer is hanging, not slow.
const hangGuard = 3 * time.Second

// newClient opens a client of s with the gateway's defaults, closed with
// the test.
func newClient(t testing.TB, s *testredis.Server) *redisclient.Client {
	t.Helper()
	c, err := redisclient.New(s.URL(), redisclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newStore returns a store on a fresh server and the client under it.
func newStore(t testing.TB) (*Store, *redisclient.Client) {
	t.Helper()
	c := newClient(t, testredis.Start(t))
	return New(c.Redis, Options{}), c
}
