package cache_test

import (
	"testing"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
)

// TestMemoryStoreConformance: the memory store keeps entries as the Redis
// store does, on the same tests.
func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := cache.NewMemoryStore(64 << 20)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	})
}
