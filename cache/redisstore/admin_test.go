package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
)

// TestPurgeKeepsOtherKeys: a purge drops the store's entries and nothing
// else in the database, whatever glob characters its prefix holds.
func TestPurgeKeepsOtherKeys(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		purge  func(*Store) error
		kept   string // the model whose entries remain, if any
	}{
		{"everything", "", func(s *Store) error { return s.Purge(context.Background()) }, ""},
		{"one model", "", func(s *Store) error { return s.PurgeModel(context.Background(), "gpt-4") }, "gpt-4o"},
		{"glob characters in the prefix", "we*i?rd[x]:", func(s *Store) error { return s.Purge(context.Background()) }, ""},
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
			stored := storetest.Fill(t, s, 200, "gpt-4", "gpt-4o") // more than one SCAN batch
			if err := tt.purge(s); err != nil {
				t.Fatal(err)
			}
			for _, k := range others {
				if c.Redis.Exists(ctx, k).Val() != 1 {
					t.Errorf("purge removed %s", k)
				}
			}
			for _, e := range stored {
				if got, _ := s.Get(ctx, e.Key); (got != nil) != (e.Model == tt.kept) {
					t.Fatalf("entry of model %q left: %v, want %v", e.Model, got != nil, e.Model == tt.kept)
				}
			}
		})
	}
}

// TestStats: the bytes are the entries' encoded size, and keys that are
// not the store's do not count.
func TestStats(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	c.Redis.Set(ctx, "llmgate:rl:0123", "not an entry", time.Hour)
	if st, err := s.Stats(ctx); err != nil || st != (cache.Stats{}) {
		t.Fatalf("empty store: %+v, %v", st, err)
	}
	var size int64
	for _, e := range storetest.Fill(t, s, 700, "a", "b") {
		size += int64(len(cache.AppendEntry(nil, e)))
	}
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
