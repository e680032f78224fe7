package limiter_test

import (
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

// TestMemoryStoreConformance: the memory store decides as the Redis store
// does, on the same tests.
func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		clock := new(harness.Clock)
		s := limiter.NewMemoryStore(limiter.MemoryOptions{Now: clock.Now})
		t.Cleanup(func() { _ = s.Close() })
		return storetest.Store{BucketStore: s, Advance: clock.Advance, Keys: s.Len}
	})
}
