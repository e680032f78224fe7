package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// Options configures a Store.
type Options struct {
	// KeyPrefix starts every key; the store adds "cache:". Default "llmgate:".
	KeyPrefix string
}

// Store is a cache.Store in Redis. Every Get and Set is one command on one
// key; a Redis failure is returned at once, so the cache can pass the
// request on. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Store over rdb: a *redis.Client (one server, or a primary
// found through Sentinel) or a *redis.ClusterClient. The store does not
// own rdb; closing it is the caller's part.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = redisclient.DefaultKeyPrefix
	}
	return &Store{rdb: rdb, prefix: opts.KeyPrefix + "cache:"}
}

// Get implements cache.Store. The entry's Body must be treated as
// read-only, as with every cache.Store.
func (s *Store) Get(ctx context.Context, k cache.Key) (*cache.Entry, error) {
	b, err := s.rdb.Get(ctx, s.redisKey(k)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis cache store: get: %w", err)
	}
	e, err := cache.ReadEntry(b)
	if err != nil {
		return nil, fmt.Errorf("redis cache store: get %s: %w", k, err)
	}
	// Redis expires the entry by its own clock; this one's decides too.
	if e == nil || e.Key != k || !time.Now().Before(e.Expires) {
		return nil, nil
	}
	return e, nil
}

// Set implements cache.Store. The entry lives in Redis until e.Expires,
// rounded up to the millisecond; an entry already expired is not stored
// (ErrNotKept).
func (s *Store) Set(ctx context.Context, k cache.Key, e *cache.Entry) error {
	if e == nil {
		return errors.New("redis cache store: set: nil entry")
	}
	ttl := time.Until(e.Expires)
	if ttl <= 0 {
		return cache.ErrNotKept
	}
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
	value := cache.AppendEntry(make([]byte, 0, cache.EntryLen(e)), e)
	if err := s.rdb.Set(ctx, s.redisKey(k), value, ttl).Err(); err != nil {
		return fmt.Errorf("redis cache store: set: %w", err)
	}
	return nil
}

// redisKey is the Redis key of an entry: the prefix and the key in hex.
func (s *Store) redisKey(k cache.Key) string { return redisclient.Key(s.prefix, k[:]) }

// Interface guard.
var _ cache.Store = (*Store)(nil)
