package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/redis/go-redis/v9"
)

// scanBatch is how many keys one SCAN step asks for: big enough for few
// round trips, small enough that no step holds the server long.
const scanBatch = 500

// Purge removes every entry.
func (s *Store) Purge(ctx context.Context) error {
	if err := s.scan(ctx, func(keys []string) error { return s.unlink(ctx, keys) }); err != nil {
		return fmt.Errorf("redis cache store: purge: %w", err)
	}
	return nil
}

// unlink removes keys, one UNLINK a key in one pipeline: the keys of a
// batch lie in many hash slots, and a cluster refuses a command whose keys
// span slots, while its client sends each command of a pipeline to the
// node of its slot.
func (s *Store) unlink(ctx context.Context, keys []string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Unlink(ctx, k)
		}
		return nil
	})
	return err
}

// PurgeModel removes the entries of one model. It reads only the start of
// each value, where the model is stored.
func (s *Store) PurgeModel(ctx context.Context, model string) error {
	want := string(cache.EntryPrefix(model))
	err := s.scan(ctx, func(keys []string) error {
		heads := make([]*redis.StringCmd, len(keys))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				heads[i] = p.GetRange(ctx, k, 0, int64(len(want)-1))
			}
			return nil
		}); err != nil {
			return err
		}
		var doomed []string
		for i, h := range heads {
			if h.Val() == want {
				doomed = append(doomed, keys[i])
			}
		}
		return s.unlink(ctx, doomed)
	})
	if err != nil {
		return fmt.Errorf("redis cache store: purge model: %w", err)
	}
	return nil
}

// Stats counts the entries and their bytes. SCAN may see an entry twice
// while Redis resizes its tables, so under churn the counts are close,
// not exact.
func (s *Store) Stats(ctx context.Context) (cache.Stats, error) {
	var st cache.Stats
	err := s.scan(ctx, func(keys []string) error {
		lens := make([]*redis.IntCmd, len(keys))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				lens[i] = p.StrLen(ctx, k)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, n := range lens {
			if n.Val() > 0 { // zero: expired since the scan saw it
				st.Entries++
				st.Bytes += n.Val()
			}
		}
		return nil
	})
	if err != nil {
		return cache.Stats{}, fmt.Errorf("redis cache store: stats: %w", err)
	}
	return st, nil
}

// scan calls fn with every batch of the store's keys. A cluster's keys
// are spread over its primaries, and SCAN walks one server: each primary
// is walked in turn.
func (s *Store) scan(ctx context.Context, fn func(keys []string) error) error {
	cc, ok := s.rdb.(*redis.ClusterClient)
	if !ok {
		return s.scanServer(ctx, s.rdb, fn)
	}
	// ForEachMaster walks the primaries at once; fn must not run
	// concurrently with itself.
	var mu sync.Mutex
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		return s.scanServer(ctx, node, func(keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(keys)
		})
	})
}

// scanServer calls fn with every batch of the store's keys on one server.
func (s *Store) scanServer(ctx context.Context, rdb redis.Cmdable, fn func(keys []string) error) error {
	pattern := globEscaper.Replace(s.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, scanBatch).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// globEscaper makes a prefix match itself in a SCAN pattern.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

// Interface guard
var _ cache.Admin = (*Store)(nil)
