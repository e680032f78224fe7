package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/storetest"
)

// BenchmarkTake measures one decision against a local Redis, one at a
// time, and reports the latency percentiles a request sees.
func BenchmarkTake(b *testing.B) {
	s := New(testredis.Client(b, testredis.Start(b)).Redis, Options{})
	ctx, key := context.Background(), storetest.Key("bench")
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := s.Take(ctx, key, time.Nanosecond, time.Hour, 0); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	harness.ReportPercentiles(b, lat)
}

// BenchmarkTakeParallel measures decisions on many keys from all cores.
func BenchmarkTakeParallel(b *testing.B) {
	s := New(testredis.Client(b, testredis.Start(b)).Redis, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		var key limiter.Key
		for i := 0; pb.Next(); i++ {
			key[0], key[1] = byte(i), byte(i>>8)
			if _, err := s.Take(ctx, key, time.Nanosecond, time.Hour, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAdjust measures a settlement against a local Redis.
func BenchmarkAdjust(b *testing.B) {
	s := New(testredis.Client(b, testredis.Start(b)).Redis, Options{})
	ctx, key := context.Background(), storetest.Key("bench")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Adjust(ctx, key, time.Nanosecond); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdmitThreeZones is one admission through three zones (per key,
// per model, cost) sharing one Store: the charges of a request as the
// gateway makes them, with the latency percentiles a request sees.
func BenchmarkAdmitThreeZones(b *testing.B) {
	l := threeZones(b, New(testredis.Client(b, testredis.Start(b)).Redis, Options{}), [3]int64{1 << 40, 1 << 40, 1 << 40})
	ctx, keys := context.Background(), []string{"Bearer sk-bench", "gpt-bench", "Bearer sk-bench"}
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		tk, err := l.AdmitSpend(ctx, keys, limiter.Spend{Cost: 1})
		if err != nil || !tk.Allowed {
			b.Fatalf("admission: %v, %+v", err, tk)
		}
		tk.Done()
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	harness.ReportPercentiles(b, lat)
}

// BenchmarkSettleThreeZones is the settlement of a request through three
// zones that meter usage (tokens, prompt and generated tokens, cost) on
// one Store, with the latency percentiles it takes: corrected in one
// round trip (batched), and one zone after another (sequential), as
// before batching.
func BenchmarkSettleThreeZones(b *testing.B) {
	for _, tt := range []struct {
		name  string
		store func(*Store) limiter.BucketStore
	}{
		{"batched", func(s *Store) limiter.BucketStore { return s }},
		{"sequential", func(s *Store) limiter.BucketStore { return sequential{s} }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, clock, _ := newFrozenStore(b)
			l := usageZones(b, tt.store(s))
			ctx, keys := context.Background(), []string{"sk-bench", "sk-bench", "sk-bench"}
			estimate := limiter.Spend{Tokens: 300, Input: 200, Output: 100, Cost: 50}
			used := limiter.Spend{Tokens: 150, Input: 100, Output: 50, Cost: 20}
			lat := make([]time.Duration, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				// An hour on, the buckets are full again.
				clock.Advance(time.Hour)
				tk, err := l.AdmitSpend(ctx, keys, estimate)
				if err != nil || !tk.Allowed {
					b.Fatalf("admission: %v, %+v", err, tk)
				}
				tk.Done()
				b.StartTimer()
				start := time.Now()
				if err := tk.Settle(ctx, used); err != nil {
					b.Fatal(err)
				}
				lat[i] = time.Since(start)
			}
			b.StopTimer()
			harness.ReportPercentiles(b, lat)
		})
	}
}
