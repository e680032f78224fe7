package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// TestConformance: a store shared through Redis keeps entries as the one
// in memory does, on the same tests.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, _ := newStore(t)
		return s
	})
}

// TestConformanceOnACluster: over a Redis Cluster the store keeps entries
// as over one server: Get and Set touch one key each, and purges and
// stats walk every primary. The tests share one cluster, each under a
// prefix of its own.
func TestConformanceOnACluster(t *testing.T) {
	c := testredis.StartCluster(t, 3, 0).Client(redisclient.Options{})
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return New(c.Universal, Options{KeyPrefix: fmt.Sprintf("t%d:", n.Add(1))})
	})
}

// TestMisses: what Redis may hold that is not the entry asked for is a
// miss, not an answer.
func TestMisses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store, c *redis.Client) cache.Key
	}{
		{"expired by this clock, not yet by Redis's", func(t *testing.T, s *Store, c *redis.Client) cache.Key {
			e := storetest.Entry("a", "m", []byte("x"), -time.Second)
			c.Set(ctx, s.redisKey(e.Key), cache.AppendEntry(nil, e), time.Hour)
			return e.Key
		}},
		{"another key's entry under this key", func(t *testing.T, s *Store, c *redis.Client) cache.Key {
			e := storetest.Entry("a", "m", []byte("x"), time.Hour)
			other := cache.Key{7}
			c.Set(ctx, s.redisKey(other), cache.AppendEntry(nil, e), time.Hour)
			return other
		}},
		{"another format version", func(t *testing.T, s *Store, c *redis.Client) cache.Key {
			e := storetest.Entry("a", "m", []byte("x"), time.Hour)
			v := cache.AppendEntry(nil, e)
			v[0]++
			c.Set(ctx, s.redisKey(e.Key), v, time.Hour)
			return e.Key
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newStore(t)
			k := tt.setup(t, s, c.Redis)
			e, err := s.Get(ctx, k)
			if e != nil || err != nil {
				t.Fatalf("got %v, %v; want a miss", e, err)
			}
		})
	}
}

func TestCorruptValueIsAnError(t *testing.T) {
	s, c := newStore(t)
	ctx, k := context.Background(), cache.Key{1}
	c.Redis.Set(ctx, s.redisKey(k), append(cache.EntryPrefix("")[:1], 0xff), time.Hour)
	if e, err := s.Get(ctx, k); err == nil || e != nil {
		t.Fatalf("got %v, %v; want an error", e, err)
	}
}

func TestSetNilEntry(t *testing.T) {
	s, _ := newStore(t)
	if err := s.Set(context.Background(), cache.Key{}, nil); err == nil {
		t.Fatal("a nil entry was accepted")
	}
}

func TestStoredKeyAndLifetime(t *testing.T) {
	tests := []struct {
		name, prefix, want string
	}{
		{"default prefix", "", "llmgate:cache:"},
		{"own prefix", "team-a:", "team-a:cache:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testredis.Client(t, testredis.Start(t))
			s := New(c.Redis, Options{KeyPrefix: tt.prefix})
			ctx := context.Background()
			e := storetest.Entry("a", "m", []byte("x"), 10*time.Minute)
			if err := s.Set(ctx, e.Key, e); err != nil {
				t.Fatal(err)
			}
			keys := c.Redis.Keys(ctx, "*").Val()
			if len(keys) != 1 || keys[0] != tt.want+e.Key.String() {
				t.Fatalf("keys %q, want %s + the key in hex", keys, tt.want)
			}
			// The entry lives until Expires; the test is far too short to
			// eat half of its ten minutes.
			if ttl := c.Redis.PTTL(ctx, keys[0]).Val(); ttl > 10*time.Minute || ttl < 5*time.Minute {
				t.Fatalf("entry lives %s, want 10m", ttl)
			}
		})
	}
}

func TestStoresSharingRedisShareEntries(t *testing.T) {
	srv := testredis.Start(t)
	a, b := New(testredis.Client(t, srv).Redis, Options{}), New(testredis.Client(t, srv).Redis, Options{})
	ctx := context.Background()
	e := storetest.Entry("shared", "gpt-4o", []byte("answer"), time.Hour)
	if err := a.Set(ctx, e.Key, e); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, e.Key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := storetest.Diff(got, e); diff != "" {
		t.Fatalf("the other instance's entry differs: %s", diff)
	}
}

func TestOutages(t *testing.T) {
	for _, tt := range testredis.Outages {
		t.Run(tt.Name, func(t *testing.T) {
			srv := testredis.Start(t)
			s := New(testredis.Client(t, srv).Redis, Options{})
			ctx := context.Background()
			e := storetest.Entry("a", "m", []byte("x"), time.Hour)
			if err := s.Set(ctx, e.Key, e); err != nil {
				t.Fatal(err)
			}
			tt.Fail(srv)
			for _, err := range testredis.FailFast(t,
				func() error { _, err := s.Get(ctx, e.Key); return err },
				func() error { return s.Set(ctx, e.Key, e) },
			) {
				if !strings.HasPrefix(err.Error(), "redis cache store: ") {
					t.Fatalf("error %q does not say where it comes from", err)
				}
			}
			tt.Repair(srv)
			var got *cache.Entry
			harness.Eventually(t, "the store to recover", func() bool {
				var err error
				got, err = s.Get(ctx, e.Key)
				return err == nil
			})
			if lost := got == nil; lost != tt.Empties {
				t.Fatalf("after the repair the entry is lost: %v, want %v", lost, tt.Empties)
			}
		})
	}
}
