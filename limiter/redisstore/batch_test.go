package redisstore

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// roundTrips counts what a go-redis client sends: a command alone is one
// round trip, a pipeline (to one server) is one too.
type roundTrips struct{ alone, pipelines, pipelined atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.alone.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.pipelines.Add(1)
		r.pipelined.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// during counts the round trips fn makes.
func (r *roundTrips) during(fn func()) (alone, pipelines, pipelined int64) {
	a, p, c := r.alone.Load(), r.pipelines.Load(), r.pipelined.Load()
	fn()
	return r.alone.Load() - a, r.pipelines.Load() - p, r.pipelined.Load() - c
}

// countedClient is a client of a fresh redis-server with the stores'
// scripts loaded beforehand (a script's first run takes a second trip)
// and a connection of its pipelines open (go-redis keeps them apart, and
// a new one greets the server first), counting its round trips.
func countedClient(t *testing.T) (*redisclient.Client, *roundTrips) {
	c := testredis.Client(t, testredis.Start(t))
	for _, script := range []*redis.Script{takeScript, adjustScript, promiseScript} {
		if err := script.Load(context.Background(), c.Redis).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Redis.Pipelined(context.Background(), func(p redis.Pipeliner) error { return p.Ping(context.Background()).Err() }); err != nil {
		t.Fatal(err)
	}
	trips := new(roundTrips)
	c.Redis.AddHook(trips)
	return c, trips
}

// Three zones on one Store: a request's three charges go to Redis in one
// script run, one round trip; a refusal by the second zone takes one more
// for its turn and one to give back the first and third, which are left
// uncharged.
func TestThreeZonesChargeInOneRoundTrip(t *testing.T) {
	c, trips := countedClient(t)
	ctx := context.Background()
	// Tightest first: per_key (2 an hour), per_model (3), cost (no request
	// rate).
	l := threeZones(t, New(c.Redis, Options{}), [3]int64{2, 3, 1000})
	admit := func(key string) *limiter.Ticket {
		t.Helper()
		tk, err := l.AdmitSpend(ctx, []string{key, "gpt-x", key}, limiter.Spend{Cost: 100})
		if err != nil {
			t.Fatal(err)
		}
		tk.Done()
		return tk
	}
	admit("sk-a")
	alone, pipelines, pipelined := trips.during(func() {
		if tk := admit("sk-a"); !tk.Allowed {
			t.Fatalf("second request refused by %s", tk.Zone)
		}
	})
	if alone != 1 || pipelines != 0 {
		t.Fatalf("an admission sent %d commands alone and %d pipelines of %d commands; want 1 command", alone, pipelines, pipelined)
	}
	if tk := admit("sk-b"); !tk.Allowed {
		t.Fatalf("third request on the model refused by %s", tk.Zone)
	}

	var tk *limiter.Ticket
	alone, pipelines, pipelined = trips.during(func() { tk = admit("sk-c") })
	if tk.Allowed || tk.Zone != "per_model" || tk.RetryAfter <= 0 {
		t.Fatalf("fourth request on the model: allowed %v by %q, retry after %s; want refused by per_model", tk.Allowed, tk.Zone, tk.RetryAfter)
	}
	// The takes, the turn promised, the give-back of two charges.
	if alone != 2 || pipelines != 1 || pipelined != 2 {
		t.Fatalf("a refusal sent %d commands alone and %d pipelines of %d commands; want 2, and 1 of 2", alone, pipelines, pipelined)
	}
	if sts := tk.Statuses(); len(sts) != 2 || sts[0].Zone != "per_key" || sts[1].Zone != "per_model" {
		t.Fatalf("statuses of the refusal %+v; want per_key's then per_model's", sts)
	}
	for _, zone := range []string{"per_key", "cost"} {
		sts, _, err := l.Peek(ctx, zone, "sk-c")
		if err != nil {
			t.Fatal(err)
		}
		if st := sts[0]; st.Remaining != st.Limit || st.Reset != 0 {
			t.Errorf("zone %s holds a charge of the refused request: %+v", zone, st)
		}
	}
}

// On a Redis Cluster, the keys of a request's zones lie in different hash
// slots: the batch goes to each key's node, and decides as on one server.
func TestThreeZonesOnACluster(t *testing.T) {
	c := testredis.StartCluster(t, 3, 0).Client(redisclient.Options{})
	l := threeZones(t, New(c.Universal, Options{}), [3]int64{1, 100, 100})
	ctx := context.Background()
	for i, want := range []bool{true, false} {
		tk, err := l.AdmitSpend(ctx, []string{"sk-a", "gpt-x", "sk-a"}, limiter.Spend{Cost: 10})
		if err != nil {
			t.Fatal(err)
		}
		if tk.Allowed != want {
			t.Fatalf("request %d: allowed %v, want %v", i+1, tk.Allowed, want)
		}
	}
	// The refusal gave back per_key's charge, and per_model's and cost's
	// of the first request stand.
	for _, tt := range []struct {
		zone, key string
		used      int64
	}{{"per_key", "sk-a", 1}, {"per_model", "gpt-x", 1}, {"cost", "sk-a", 10}} {
		sts, _, err := l.Peek(ctx, tt.zone, tt.key)
		if err != nil {
			t.Fatal(err)
		}
		if st := sts[0]; st.Remaining != st.Limit-tt.used {
			t.Errorf("zone %s after one admission and one refusal: %+v; want %d used", tt.zone, st, tt.used)
		}
	}
}

// A request through three zones that meter usage on one Store settles in
// one round trip, to exactly what correcting the zones one by one gives.
func TestThreeZonesSettleInOneRoundTrip(t *testing.T) {
	c, trips := countedClient(t)
	ctx := context.Background()
	batched, _ := frozenStore(c, "batched:")
	one, _ := frozenStore(c, "one:")
	limiters := []*limiter.Limiter{usageZones(t, batched), usageZones(t, sequential{one})}
	keys := []string{"sk-a", "sk-a", "sk-a"}
	estimate := limiter.Spend{Tokens: 300, Input: 200, Output: 100, Cost: 50}
	// Less than reserved, more (debt, past the bucket for output), and
	// exactly as reserved (nothing to correct).
	used := limiter.Spend{Tokens: 150, Input: 200, Output: 900, Cost: 400}
	for i, l := range limiters {
		tk, err := l.AdmitSpend(ctx, keys, estimate)
		if err != nil || !tk.Allowed {
			t.Fatalf("limiter %d: admission %+v, %v", i, tk, err)
		}
		tk.Done()
		alone, pipelines, pipelined := trips.during(func() {
			if err := tk.Settle(ctx, used); err != nil {
				t.Fatal(err)
			}
		})
		if i == 0 && (alone != 0 || pipelines != 1 || pipelined != 3) {
			t.Fatalf("settlement sent %d commands alone and %d pipelines of %d commands; want 1 pipeline of 3", alone, pipelines, pipelined)
		}
		if i == 1 && (alone != 3 || pipelines != 0) {
			t.Fatalf("sequential settlement sent %d commands alone and %d pipelines; want 3 alone", alone, pipelines)
		}
	}
	for _, zone := range []string{"tpm", "io", "cost"} {
		var got [2][]limiter.Status
		for i, l := range limiters {
			sts, _, err := l.Peek(ctx, zone, "sk-a")
			if err != nil {
				t.Fatal(err)
			}
			got[i] = sts
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("zone %s settled in one round trip: %+v; one by one: %+v", zone, got[0], got[1])
		}
	}
	// The corrections are those of the usage: 150 tokens of 10000 used,
	// and the output bucket 400 in debt (its backlog less the lateness
	// credit of its first charge, which a fresh bucket counts from
	// MaxSlack ago).
	sts, _, _ := limiters[0].Peek(ctx, "tpm", "sk-a")
	if sts[0].Remaining != 10000-150 {
		t.Errorf("tpm after settling 150 tokens: %+v", sts[0])
	}
	sts, _, _ = limiters[0].Peek(ctx, "io", "sk-a")
	if out := sts[1]; out.Remaining != 0 || out.Reset != 900*(time.Hour/500)-limiter.MaxSlack {
		t.Errorf("output tokens after settling 900 of 500: %+v; want 400 in debt", out)
	}
}
