// Package redisshare shares what a provider.Pool learns of its keys with
// the pools of other instances, through Redis: when one instance takes a
// key out for a while (the provider answered 429), the others do too.
//
// A cooldown is kept twice: as a key holding its end (expiring then), for
// an instance that starts later, and as a message on a channel, for the
// instances running. Keys are named by the provider key's fingerprint,
// never the key.
package redisshare

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/provider"
)

// Health shares the cooldowns of one pool's keys. Close it when done.
type Health struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	sub     *redis.PubSub
	done    chan struct{}
	onError func(error)
}

// channel is the channel cooldowns are told on, after the prefix.
const channel = "pv:cooldowns"

// New returns a Health on rdb, keys starting with prefix. Every command
// waits at most timeout; onError (nil: none) hears of failures, which
// leave each pool to learn alone. Give its Publish to provider.NewPool,
// then the pool to Follow.
func New(rdb redis.UniversalClient, prefix string, timeout time.Duration, onError func(error)) *Health {
	return &Health{rdb: rdb, prefix: prefix, timeout: timeout, done: make(chan struct{}), onError: onError}
}

// Follow loads the cooldowns other instances stored for pool's keys, then
// applies to pool those they tell, until Close.
func (h *Health) Follow(pool *provider.Pool) {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	// Subscribed before reading what is stored, so that a cooldown told
	// in between is not missed.
	h.sub = h.rdb.Subscribe(context.Background(), h.prefix+channel)
	if _, err := h.sub.Receive(ctx); err != nil {
		h.fail(err) // the subscription retries by itself
	}
	go h.follow(pool)
	keys := pool.Keys()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = h.key(k.ID)
	}
	vals, err := h.rdb.MGet(ctx, names...).Result()
	if err != nil {
		h.fail(err)
		return
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			if until, ok := unixMilli(s); ok {
				pool.Cooldown(keys[i].ID, until)
			}
		}
	}
}

// key is the Redis key of the cooldown of the provider key id.
func (h *Health) key(id string) string { return h.prefix + "pv:" + id }

// Publish tells the other instances that the key id sits out until then.
// It returns at once; the commands run on their own.
func (h *Health) Publish(id string, until time.Time) {
	if !until.After(time.Now()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
		defer cancel()
		ms := strconv.FormatInt(until.UnixMilli(), 10)
		_, err := h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetArgs(ctx, h.key(id), ms, redis.SetArgs{ExpireAt: until})
			p.Publish(ctx, h.prefix+channel, id+" "+ms)
			return nil
		})
		if err != nil {
			h.fail(err)
		}
	}()
}

// follow applies the cooldowns told on the channel to pool until Close.
func (h *Health) follow(pool *provider.Pool) {
	msgs := h.sub.Channel()
	for {
		select {
		case <-h.done:
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			id, ms, _ := strings.Cut(m.Payload, " ")
			if until, ok := unixMilli(ms); ok {
				pool.Cooldown(id, until)
			}
		}
	}
}

// unixMilli reads a time in Unix milliseconds.
func unixMilli(s string) (time.Time, bool) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

func (h *Health) fail(err error) {
	if h.onError != nil {
		h.onError(err)
	}
}

// Close stops following the other instances.
func (h *Health) Close() error {
	close(h.done)
	if h.sub == nil {
		return nil
	}
	return h.sub.Close()
}
