package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/redis/go-redis/v9"
)

// scanBatch is how many keys one SCAN step asks for: big enough for few
// round trips, small enough that no step holds the server long.
const scanBatch = 500

// Purge removes every entry.
func (s *Store) Purge(ctx context.Context) error {
	err := s.scan(ctx, func(keys []string) error { return s.rdb.Unlink(ctx, keys...).Err() })
	if err != nil {
		return fmt.Errorf("redis cache store: purge: %w", err)
	}
	return nil
}

// PurgeModel removes the entries of one model. It reads only the start of
// each value, where the model is stored.
func (s *Store) PurgeModel(ctx context.Context, model string) error {
	want := string(modelPrefix(model))
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
		if len(doomed) == 0 {
			return nil
		}
		return s.rdb.Unlink(ctx, doomed...).Err()
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

// scan calls fn with every batch of the store's keys.
func (s *Store) scan(ctx context.Context, fn func(keys []string) error) error {
	pattern := globEscaper.Replace(s.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, pattern, scanBatch).Result()
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
