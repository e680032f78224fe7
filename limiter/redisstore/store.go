package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// Options configures a Store.
type Options struct {
	// KeyPrefix starts every key; the store adds "rl:". Default "llmgate:".
	KeyPrefix string
	// Waiter bounds a request's wait for a round trip it shares with
	// others (see TakeMany); without one, only its context does. A
	// *redisclient.Client is one: the request then waits as long as a
	// command of its own could take.
	Waiter Waiter
}

// Waiter bounds a request's wait for a round trip it shares.
type Waiter interface {
	// Await returns when done is closed, or an error when the request of
	// ctx may wait no longer.
	Await(ctx context.Context, done <-chan struct{}) error
}

// Store is a limiter.BucketStore in Redis. Every Take, Adjust and Promise is
// atomic on the server, on its clock: stores of several gateway instances
// sharing one Redis enforce one limit. Adjust and Promise are a round trip
// each, AdjustMany one for all; the takes of concurrent requests share
// round trips (see TakeMany), so that the zones of a limiter that share
// one Store charge a request together, and a busy gateway sends one script
// for many requests. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	waiter Waiter
	// oneServer is whether rdb is one server, where one script may touch
	// any keys; a cluster's scripts touch keys of one hash slot.
	oneServer bool
	group     group
	// now replaces the Redis clock in tests; it returns microseconds.
	// Keys set on it do not expire.
	now func() int64
}

// New returns a Store over rdb: a *redis.Client, *redis.ClusterClient or
// *redis.Ring (each bucket is one key, so any of them works). The store
// does not own rdb; closing it is the caller's part.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = redisclient.DefaultKeyPrefix
	}
	_, oneServer := rdb.(*redis.Client)
	return &Store{rdb: rdb, prefix: opts.KeyPrefix + "rl:", waiter: opts.Waiter, oneServer: oneServer}
}

// Take implements limiter.BucketStore, as a TakeMany of one.
func (s *Store) Take(ctx context.Context, key limiter.Key, cost, limit, slack time.Duration) (limiter.Decision, error) {
	t := [1]limiter.BatchTake{{Key: key, Cost: cost, Limit: limit, Slack: slack}}
	err := s.TakeMany(ctx, t[:])
	return t[0].Decision, err
}

// Adjust implements limiter.BucketStore.
func (s *Store) Adjust(ctx context.Context, key limiter.Key, delta time.Duration) error {
	if err := adjustScript.Run(ctx, s.rdb, []string{s.redisKey(key)}, s.args(int64(delta))...).Err(); err != nil {
		return fmt.Errorf("redis rate-limit store: adjust: %w", err)
	}
	return nil
}

// Promise implements limiter.BucketStore.
func (s *Store) Promise(ctx context.Context, key limiter.Key, after, cost, horizon time.Duration) (time.Duration, error) {
	wait, err := promiseScript.Run(ctx, s.rdb, []string{s.redisKey(key)}, s.args(int64(after), int64(cost), int64(horizon))...).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis rate-limit store: promise: %w", err)
	}
	return time.Duration(wait), nil
}

// args are a script's arguments: ns, then the test clock when it is set.
func (s *Store) args(ns ...int64) []any {
	args := make([]any, len(ns), len(ns)+1)
	for i, v := range ns {
		args[i] = v
	}
	if s.now != nil {
		args = append(args, s.now())
	}
	return args
}

// redisKey is the Redis key of a bucket: the prefix and the key in hex.
func (s *Store) redisKey(k limiter.Key) string { return redisclient.Key(s.prefix, k[:]) }

// Interface guard.
var _ limiter.BucketStore = (*Store)(nil)
