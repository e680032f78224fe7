package limiter

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// hammerTokens runs workers that each make ops requests of one key through
// l, reserving estimate tokens and settling a random usage in [lo, hi];
// before each request a worker calls tick. It returns the tokens settled
// by admitted requests.
func hammerTokens(t *testing.T, l *Limiter, workers, ops int, estimate, lo, hi int64, tick func()) int64 {
	t.Helper()
	var used atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			ctx, keys := context.Background(), []string{"one key"}
			for range ops {
				tick()
				tk, err := l.AdmitSpend(ctx, keys, Spend{Tokens: estimate})
				if err != nil {
					t.Error(err)
					return
				}
				if !tk.Allowed {
					continue
				}
				u := lo + rng.Int64N(hi-lo+1)
				if err := tk.Settle(ctx, Spend{Tokens: u}); err != nil {
					t.Error(err)
					return
				}
				used.Add(u)
				tk.Done()
			}
		})
	}
	wg.Wait()
	return used.Load()
}

func TestTokenBucketIsExactUnderContention(t *testing.T) {
	const (
		workers  = 64
		ops      = 1500
		perTick  = time.Microsecond
		depth    = 100_000 // tokens, one a microsecond
		estimate = 100
		lo, hi   = 50, 150 // settled usage: refunds and debt
	)
	clock := new(harness.Clock)
	store := NewMemoryStore(MemoryOptions{Now: clock.Now})
	defer store.Close()
	l := newLimiter(t, Zone{Name: "tpm", Tokens: Rate{Count: depth, Per: depth * perTick}, Buckets: store})
	start := clock.Now()

	// Fill the bucket first: from then on demand (about 100 tokens a tick
	// a worker) far exceeds supply (one a tick), so the bucket never
	// drains, and every token charged or given back must show in its
	// backlog.
	tk, _ := l.AdmitSpend(context.Background(), []string{"one key"}, Spend{Tokens: depth})
	_ = tk.Settle(context.Background(), Spend{Tokens: depth})
	used := hammerTokens(t, l, workers, ops, estimate, lo, hi, func() { clock.Advance(perTick) })

	elapsed := clock.Now().Sub(start)
	key := hashKey("tpm", "one key").salted(meterTweaks[tokenMeter])
	d, _ := store.Take(context.Background(), key, 0, maxHorizon, 0)
	t.Logf("%d tokens used in %s of store time; backlog %s", used, elapsed, d.Backlog)
	// Every token charged is time the bucket's TAT moved: exactly, from
	// the first charge's, which counts from half a token before start
	// (its lateness credit: a fresh bucket counts from the credit ago).
	if charged := time.Duration(depth+used) * perTick; charged != elapsed+d.Backlog+perTick/2 {
		t.Fatalf("tokens charged %s, but the bucket moved %s: updates were lost", charged, elapsed+d.Backlog+perTick/2)
	}
	// Admission held the backlog within the bucket, save the debt of the
	// requests in flight at the end; and the bucket stayed full, so the
	// rate was used to the last token a request could take.
	if over := d.Backlog - depth*perTick; over > workers*(hi-estimate)*perTick {
		t.Fatalf("backlog %s beyond the bucket: more than the rate was admitted", over)
	}
	if under := depth*perTick - d.Backlog; under > workers*estimate*perTick {
		t.Fatalf("backlog %s under the bucket: the rate was not used", under)
	}
}

func TestFixedWindowTokensAreExactUnderContention(t *testing.T) {
	const (
		workers  = 64
		ops      = 1500
		limit    = 200_000
		estimate = 100
	)
	l := newLimiter(t, Zone{Name: "daily", Tokens: Rate{Count: limit, Per: 24 * time.Hour}, Algorithm: FixedWindow})
	// Usage never beyond the estimate: the count can never pass the limit.
	used := hammerTokens(t, l, workers, ops, estimate, 0, estimate, func() {})
	counted := limit - remainingOf(t, l, "daily", tokenMeter, "one key")
	t.Logf("%d tokens used, %d counted", used, counted)
	if counted != used {
		t.Fatalf("window counted %d tokens, requests used %d", counted, used)
	}
	if used < limit-workers*estimate {
		t.Fatalf("%d tokens used of %d: the window was not used", used, limit)
	}
}
