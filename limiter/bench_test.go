package limiter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
	"github.com/llmgate/caddy-llmgate/usage"
)

// BenchmarkAdmit is one decision for a key already in the store: hashing,
// the bucket step and the ticket. All goroutines share one key, the worst
// case for the store's locks; BenchmarkAdmitManyKeys spreads them.
func BenchmarkAdmit(b *testing.B) {
	benchZones(b, []benchZone{
		{"token_bucket", Zone{Name: "per_key", Requests: Rate{Count: 1 << 40, Per: time.Second}}},
		{"token_bucket+concurrency", Zone{Name: "per_key", Requests: Rate{Count: 1 << 40, Per: time.Second}, Concurrency: 1 << 20}},
		{"fixed_window", Zone{Name: "per_key", Requests: Rate{Count: 1 << 40, Per: time.Hour}, Algorithm: FixedWindow}},
	}, func(ctx context.Context, l *Limiter, keys []string) error {
		tk, err := l.Admit(ctx, keys)
		if err != nil || !tk.Allowed {
			return errRefused
		}
		tk.Done()
		return nil
	})
}

// benchZone is one zone a benchmark runs against.
type benchZone struct {
	name string
	zone Zone
}

// errRefused is a benchmark's request that the limiter refused.
var errRefused = errors.New("refused")

// benchZones runs step in parallel on a limiter of each zone, with one key
// shared by every goroutine.
func benchZones(b *testing.B, zones []benchZone, step func(ctx context.Context, l *Limiter, keys []string) error) {
	for _, tt := range zones {
		b.Run(tt.name, func(b *testing.B) {
			l := newLimiter(b, tt.zone)
			keys := []string{"Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyz"}
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := step(ctx, l, keys); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkAdmitTokens is a request's whole token accounting: admission
// with an estimate, then the settlement of its usage.
func BenchmarkAdmitTokens(b *testing.B) {
	lots := Rate{Count: 1 << 40, Per: time.Second}
	benchZones(b, []benchZone{
		{"token_bucket", Zone{Name: "per_key", Tokens: lots}},
		{"token_bucket+requests", Zone{Name: "per_key", Requests: lots, Tokens: lots}},
		{"fixed_window", Zone{Name: "per_key", Tokens: Rate{Count: 1 << 60, Per: time.Hour}, Algorithm: FixedWindow}},
	}, func(ctx context.Context, l *Limiter, keys []string) error {
		tk, err := l.AdmitSpend(ctx, keys, Spend{Tokens: 1200})
		if err != nil || !tk.Allowed {
			return errRefused
		}
		if err := tk.Settle(ctx, Spend{Tokens: 950}); err != nil {
			return err
		}
		tk.Done()
		return nil
	})
}

// BenchmarkAdmitCost is BenchmarkAdmitTokens for a cost zone: the
// request's model priced in a table the size of LiteLLM's file, its
// estimate priced, admission, then the settlement of its usage priced by
// kind. It should cost about what BenchmarkAdmitTokens/token_bucket does.
func BenchmarkAdmitCost(b *testing.B) {
	prices := map[string]pricing.Price{"*": {Input: 1}, "claude-*": {Input: 2}, "gpt-4o*": {Input: 150_000, Output: 600_000}}
	for i := range 2000 {
		prices[fmt.Sprintf("provider/model-%d", i)] = pricing.Price{Input: 4}
	}
	table := pricing.NewTable(prices)
	req := &llmreq.Fields{Model: "gpt-4o-mini-2024-07-18", TextBytes: 4000, MaxOutputTokens: 200}
	answer := usage.Usage{Input: 1000, CachedInput: 400, Output: 150, Total: 1150}
	lots := Rate{Count: 1 << 40, Per: time.Second}
	benchZones(b, []benchZone{
		{"token_bucket", Zone{Name: "per_key", Cost: lots}},
		{"fixed_window", Zone{Name: "per_key", Cost: Rate{Count: 1 << 60, Per: time.Hour}, Algorithm: FixedWindow}},
	}, func(ctx context.Context, l *Limiter, keys []string) error {
		price, ok := table.Lookup(req.Model)
		if !ok {
			return errRefused
		}
		tk, err := l.AdmitSpend(ctx, keys, estimateSpend(req, price))
		if err != nil || !tk.Allowed {
			return errRefused
		}
		if err := tk.Settle(ctx, Spend{Tokens: answer.Total, Input: answer.Input, Output: answer.Output, Cost: int64(price.Cost(answer))}); err != nil {
			return err
		}
		tk.Done()
		return nil
	})
}

func BenchmarkAdmitManyKeys(b *testing.B) {
	l := newLimiter(b, Zone{Name: "per_key", Requests: Rate{Count: 1 << 40, Per: time.Second}})
	keys := make([][]string, 4096)
	for i := range keys {
		keys[i] = []string{"Bearer sk-proj-" + strconv.Itoa(i) + "-0123456789abcdefghijklmnopqrstuvwxyz"}
	}
	ctx := context.Background()
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine starts elsewhere in the keys, so that they do not
		// walk them in step.
		for i := int(worker.Add(1)) * 997; pb.Next(); i++ {
			tk, err := l.Admit(ctx, keys[i%len(keys)])
			if err != nil || !tk.Allowed {
				b.Fatal("refused")
			}
		}
	})
}

// BenchmarkMemoryStoreTake is the store's step alone, on one key and on
// keys spread over the shards.
func BenchmarkMemoryStoreTake(b *testing.B) {
	s := NewMemoryStore(MemoryOptions{})
	defer s.Close()
	ctx := context.Background()
	b.Run("one key", func(b *testing.B) {
		key := hashKey("z", "k")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = s.Take(ctx, key, time.Nanosecond, time.Hour, 0)
			}
		})
	})
	b.Run("many keys", func(b *testing.B) {
		var worker atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(worker.Add(1)) * 7919
			for pb.Next() {
				_, _ = s.Take(ctx, numberedKey(i&0xffff), time.Nanosecond, time.Hour, 0)
				i++
			}
		})
	})
}

// BenchmarkMemoryStoreKeys fills a store with a million keys and reports
// the heap each one takes.
func BenchmarkMemoryStoreKeys(b *testing.B) {
	var perKey float64
	for b.Loop() {
		perKey = fillKeys(b, 1_000_000)
	}
	b.ReportMetric(perKey, "B/key")
}

func BenchmarkSetHeaders(b *testing.B) {
	tk := ticketOf(
		Status{Zone: "per_key", Kind: KindRequests, Limit: 60, Remaining: 12, Reset: 4800 * time.Millisecond, Window: time.Minute},
		Status{Zone: "upstream", Kind: KindRequests, Limit: 10, Remaining: 5, Reset: 250 * time.Millisecond, Window: time.Second},
		Status{Zone: "per_key", Kind: KindConcurrency, Limit: 4, Remaining: 3},
	)
	for _, style := range []HeaderStyle{HeadersOpenAI, HeadersIETF} {
		b.Run(string(style), func(b *testing.B) {
			h := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				tk.SetHeaders(h, style)
			}
		})
	}
}

// BenchmarkMiddleware is an admitted request through the middleware, with
// its header writer, short of the network.
func BenchmarkMiddleware(b *testing.B) {
	l := newLimiter(b, Zone{Name: "per_key", Requests: Rate{Count: 1 << 40, Per: time.Second}})
	h := l.Middleware(byAuthorization(1), HeadersOpenAI)(okHandler)
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyz")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(discardWriter{http.Header{}}, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}
