package cache_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/redisstore"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// listeningTier is a tier of one instance: a TieredStore in front of the
// entries under prefix in Redis, and the listener of their purges.
type listeningTier struct {
	*cache.TieredStore
	// listening is true once the subscription holds, and false again
	// when it broke.
	listening atomic.Bool
	heard     chan struct{}
}

func (l *listeningTier) Listening(on bool) {
	l.TieredStore.Listening(on)
	l.listening.Store(on)
	if on {
		select {
		case l.heard <- struct{}{}:
		default:
		}
	}
}

// newTier returns a tier of 8 MiB in front of the entries under prefix,
// listening for purges.
func newTier(t testing.TB, c *redisclient.Client, prefix string) *listeningTier {
	t.Helper()
	mem, err := cache.NewMemoryStore(cache.MemoryStep)
	if err != nil {
		t.Fatal(err)
	}
	shared := redisstore.New(c.Universal, redisstore.Options{KeyPrefix: prefix})
	l := &listeningTier{TieredStore: cache.NewTieredStore(mem, shared, shared.Publish), heard: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		shared.Listen(ctx, l)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		mem.Close()
	})
	l.awaitListening(t)
	return l
}

// awaitListening returns once the tier has subscribed (again) to purges.
func (l *listeningTier) awaitListening(t testing.TB) {
	t.Helper()
	select {
	case <-l.heard:
	case <-time.After(10 * time.Second):
		t.Fatal("the tier never subscribed to purges")
	}
}

// TestTieredStoreConformance: a local tier in front of Redis keeps
// entries as the stores under it do.
func TestTieredStoreConformance(t *testing.T) {
	c := testredis.Client(t, testredis.Start(t))
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newTier(t, c, fmt.Sprintf("t%d:", n.Add(1)))
	})
}

// getLocal reports whether s holds k and whether it came from the local tier.
func getLocal(t *testing.T, s cache.Store, k cache.Key) (found, local bool) {
	t.Helper()
	e, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return e != nil, e != nil && e.Local
}

// TestTieredPurgeReachesEveryInstance: instance B keeps a copy of what A
// stored; a purge on A, of one model or of all, drops B's copies within a
// second, and only those of the model purged.
// A cluster carries the purge too: its nodes pass on what one publishes.
func TestTieredPurgeReachesEveryInstance(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		testPurgeReachesEveryInstance(t, testredis.Client(t, testredis.Start(t)))
	})
	t.Run("cluster", func(t *testing.T) {
		testPurgeReachesEveryInstance(t, testredis.StartCluster(t, 3, 0).Client(redisclient.Options{}))
	})
}

func testPurgeReachesEveryInstance(t *testing.T, c *redisclient.Client) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		purge     func(cache.Admin) error
		otherLeft bool
	}{
		{"one model", func(a cache.Admin) error { return a.PurgeModel(ctx, "gpt-4o") }, true},
		{"everything", func(a cache.Admin) error { return a.Purge(ctx) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prefix := tt.name + ":"
			a, b := newTier(t, c, prefix), newTier(t, c, prefix)
			stored := storetest.Fill(t, a, 1, "gpt-4o", "o1")
			for _, e := range stored {
				if found, local := getLocal(t, b, e.Key); !found || local {
					t.Fatalf("first lookup on B: found %v, local %v; want it from Redis", found, local)
				}
				if found, local := getLocal(t, b, e.Key); !found || !local {
					t.Fatalf("second lookup on B: found %v, local %v; want B's copy", found, local)
				}
			}
			if err := tt.purge(a); err != nil {
				t.Fatal(err)
			}
			purged := time.Now()
			harness.Eventually(t, "B's copy to go", func() bool {
				found, _ := getLocal(t, b, stored[0].Key)
				return !found
			})
			if took := time.Since(purged); took > time.Second {
				t.Fatalf("B served its copy for %s after the purge", took)
			}
			found, local := getLocal(t, b, stored[1].Key)
			if found != tt.otherLeft || local != tt.otherLeft {
				t.Fatalf("the other model's entry on B: found %v, local %v; want %v", found, local, tt.otherLeft)
			}
		})
	}
}

// TestTieredCopyNeverOutlivesItsEntry: a copy is served only before its
// entry expires in Redis; after, the lookup asks Redis, which has
// nothing.
func TestTieredCopyNeverOutlivesItsEntry(t *testing.T) {
	c := testredis.Client(t, testredis.Start(t))
	s := newTier(t, c, "ttl:")
	e := storetest.Entry("short", "m", []byte("answer"), 300*time.Millisecond)
	if err := s.Set(context.Background(), e.Key, e); err != nil {
		t.Fatal(err)
	}
	copies := 0
	harness.Eventually(t, "the entry to expire", func() bool {
		asked := time.Now()
		got, err := s.Get(context.Background(), e.Key)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			return true
		}
		if !asked.Before(e.Expires) {
			t.Fatalf("served (local %v) %s after the entry expired", got.Local, asked.Sub(e.Expires))
		}
		if got.Local {
			copies++
		}
		return false
	})
	if copies == 0 {
		t.Fatal("the copy was never served")
	}
	if got, _ := s.Get(context.Background(), e.Key); got != nil {
		t.Fatal("served after it expired")
	}
}

// TestTieredDeafInstanceServesNoCopies: while Redis is down, an instance
// cannot hear the others' purges, so it serves none of its copies: the
// lookup fails as one on Redis alone does, within the bound. Once Redis
// is back, copies are kept and served again.
func TestTieredDeafInstanceServesNoCopies(t *testing.T) {
	for _, o := range testredis.Outages {
		t.Run(o.Name, func(t *testing.T) {
			rs := testredis.Start(t)
			s := newTier(t, testredis.Client(t, rs), "deaf:")
			ctx := context.Background()
			e := storetest.Entry("a", "m", []byte("answer"), time.Hour)
			if err := s.Set(ctx, e.Key, e); err != nil {
				t.Fatal(err)
			}
			if _, local := getLocal(t, s, e.Key); !local {
				t.Fatal("no copy before the outage")
			}
			o.Fail(rs)
			harness.Eventually(t, "the tier to find itself deaf", func() bool { return !s.listening.Load() })
			testredis.FailFast(t, func() error {
				got, err := s.Get(ctx, e.Key)
				if got != nil {
					t.Fatalf("served local=%v during the outage", got.Local)
				}
				return err
			})
			o.Repair(rs)
			s.awaitListening(t)
			if o.Empties {
				if err := s.Set(ctx, e.Key, e); err != nil {
					t.Fatal(err)
				}
			}
			harness.Eventually(t, "copies again", func() bool {
				_, local := getLocal(t, s, e.Key)
				return local
			})
		})
	}
}

// TestTieredFollowsSentinelFailover: when Sentinel promotes the replica,
// every tier subscribes again on the new primary, with no copy served
// meanwhile, and purges go on reaching every instance.
func TestTieredFollowsSentinelFailover(t *testing.T) {
	st := testredis.StartSentinel(t)
	c, err := redisclient.Open(redisclient.Sentinel, st.URL(), redisclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	a, b := newTier(t, c, "failover:"), newTier(t, c, "failover:")
	st.Primary.Stop()
	st.WaitPromoted()
	a.awaitListening(t)
	b.awaitListening(t)

	ctx := context.Background()
	e := storetest.Fill(t, a, 1, "gpt-4o")[0]
	harness.Eventually(t, "a copy on B", func() bool {
		_, local := getLocal(t, b, e.Key)
		return local
	})
	if err := a.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, "B's copy to go", func() bool {
		found, _ := getLocal(t, b, e.Key)
		return !found
	})
}
