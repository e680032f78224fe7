package cache_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/redisstore"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
)

// BenchmarkHit4KiB measures a hit of a 4 KiB answer in each store: in
// memory, in Redis alone, and through a local tier in front of Redis (the
// copy kept by the first lookup).
func BenchmarkHit4KiB(b *testing.B) {
	c := testredis.Client(b, testredis.Start(b))
	mem, err := cache.NewMemoryStore(64 << 20)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(mem.Close)
	stores := []struct {
		name string
		s    cache.Store
	}{
		{"memory", mem},
		{"redis", redisstore.New(c.Universal, redisstore.Options{KeyPrefix: "redis:"})},
		{"redis+local", newTier(b, c, "tiered:")},
	}
	ctx := context.Background()
	e := storetest.Entry("bench", "gpt-4o", bytes.Repeat([]byte("x"), 4<<10), time.Hour)
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			if err := st.s.Set(ctx, e.Key, e); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(e.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if got, err := st.s.Get(ctx, e.Key); got == nil || err != nil {
					b.Fatal("miss", err)
				}
			}
		})
	}
}
