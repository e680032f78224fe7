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
		if _, err := s.Take(ctx, key, time.Nanosecond, time.Hour); err != nil {
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
			if _, err := s.Take(ctx, key, time.Nanosecond, time.Hour); err != nil {
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
