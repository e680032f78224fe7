package redisstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
)

// fill stores n entries of each model and returns their total encoded size.
func fill(t *testing.T, s *Store, n int, models ...string) int64 {
	t.Helper()
	ctx := context.Background()
	var size int64
	for _, m := range models {
		for i := range n {
			e := testEntry(fmt.Sprint(m, i), m, []byte(fmt.Sprint("answer ", i)), time.Hour)
			if err := s.Set(ctx, e.Key, e); err != nil {
				t.Fatal(err)
			}
			size += int64(len(encode(nil, e)))
		}
	}
	return size
}

func TestPurge(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		purge  func(*Store) error
		left   []string // models whose entries remain
	}{
		{"everything", "", func(s *Store) error { return s.Purge(context.Background()) }, nil},
		{"one model", "", func(s *Store) error { return s.PurgeModel(context.Background(), "gpt-4") }, []string{"gpt-4o", ""}},
		{"the empty model", "", func(s *Store) error { return s.PurgeModel(context.Background(), "") }, []string{"gpt-4", "gpt-4o"}},
		{"an unknown model", "", func(s *Store) error { return s.PurgeModel(context.Background(), "o1") }, []string{"gpt-4", "gpt-4o", ""}},
		{"glob characters in the prefix", "we*i?rd[x]:", func(s *Store) error { return s.Purge(context.Background()) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testredis.Client(t, testredis.Start(t))
			s := New(c.Redis, Options{KeyPrefix: tt.prefix})
			ctx := context.Background()
			// Keys that are not the store's stay: the limiter's, a
			// neighbour's, and another prefix that the glob would match.
			others := []string{"llmgate:rl:0123", "someone:else", "wexi?rd[x]:cache:1"}
			for _, k := range others {
				c.Redis.Set(ctx, k, "1", time.Hour)
			}
			const perModel = 200 // three models: more than one SCAN batch
			fill(t, s, perModel, "gpt-4", "gpt-4o", "")
			if err := tt.purge(s); err != nil {
				t.Fatal(err)
			}
			for _, k := range others {
				if c.Redis.Exists(ctx, k).Val() != 1 {
					t.Errorf("purge removed %s", k)
				}
			}
			for _, m := range []string{"gpt-4", "gpt-4o", ""} {
				want := 0
				if slices.Contains(tt.left, m) {
					want = perModel
				}
				got := 0
				for i := range perModel {
					if e, _ := s.Get(ctx, testEntry(fmt.Sprint(m, i), m, nil, 0).Key); e != nil {
						got++
					}
				}
				if got != want {
					t.Errorf("model %q: %d entries left, want %d", m, got, want)
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	c.Redis.Set(ctx, "llmgate:rl:0123", "not an entry", time.Hour)
	if st, err := s.Stats(ctx); err != nil || st != (cache.Stats{}) {
		t.Fatalf("empty store: %+v, %v", st, err)
	}
	size := fill(t, s, 700, "a", "b")
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (cache.Stats{Entries: 1400, Bytes: size}); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

func TestAdminDuringAnOutage(t *testing.T) {
	srv := testredis.Start(t)
	s := New(testredis.Client(t, srv).Redis, Options{})
	srv.Stop()
	ctx := context.Background()
	if err := s.Purge(ctx); err == nil {
		t.Error("Purge succeeded with Redis down")
	}
	if err := s.PurgeModel(ctx, "m"); err == nil {
		t.Error("PurgeModel succeeded with Redis down")
	}
	if _, err := s.Stats(ctx); err == nil {
		t.Error("Stats succeeded with Redis down")
	}
}
