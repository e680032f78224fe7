package redisstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache/storetest"
	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// BenchmarkGet4KiB measures a hit of a 4 KiB answer against a local Redis,
// one at a time, and reports the latency percentiles a request sees.
func BenchmarkGet4KiB(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	e := storetest.Entry("bench", "gpt-4o", bytes.Repeat([]byte("x"), 4<<10), time.Hour)
	if err := s.Set(ctx, e.Key, e); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, b.N)
	b.SetBytes(int64(len(e.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		got, err := s.Get(ctx, e.Key)
		if err != nil || got == nil {
			b.Fatal("miss", err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	harness.ReportPercentiles(b, lat)
}

// BenchmarkSet4KiB measures storing a 4 KiB answer.
func BenchmarkSet4KiB(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	e := storetest.Entry("bench", "gpt-4o", bytes.Repeat([]byte("x"), 4<<10), time.Hour)
	b.SetBytes(int64(len(e.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set(ctx, e.Key, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMiss measures a lookup of an absent key.
func BenchmarkGetMiss(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if e, err := s.Get(ctx, [32]byte{1}); err != nil || e != nil {
			b.Fatal("hit", err)
		}
	}
}
