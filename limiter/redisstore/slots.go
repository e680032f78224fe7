package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// DefaultLeaseTTL is how long a slot outlives the last renewal of its
// lease: the time the slots of a server that died stay taken.
const DefaultLeaseTTL = 3 * time.Second

// Slots is a limiter.SlotStore in Redis: the slots of a key are a sorted
// set of leases scored by their expiry on the Redis clock. Taking a slot
// is one script run that first drops the lapsed leases. The leases a
// Slots hands out are renewed, all in one round trip, every third of
// their TTL until released, so the slots of a server that dies lapse
// within the TTL. It is safe for concurrent use; Close stops the
// renewals.
type Slots struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	// id starts this store's leases, n numbers them.
	id string
	n  atomic.Uint64

	mu   sync.Mutex
	held map[string]string // lease → Redis key
	stop chan struct{}
	done chan struct{}
}

// NewSlots returns a Slots over rdb whose leases lapse ttl (default
// DefaultLeaseTTL) after their last renewal. The store does not own rdb.
func NewSlots(rdb redis.UniversalClient, opts Options, ttl time.Duration) *Slots {
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = redisclient.DefaultKeyPrefix
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Slots{
		rdb: rdb, prefix: opts.KeyPrefix + "slots:", ttl: ttl, id: hex.EncodeToString(b[:]) + ":",
		held: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.renew()
	return s
}

// acquireScript: KEYS[1] the slots of a key; ARGV lease, limit, ttl (ms).
// Returns {taken (1 or 0), held}.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local ttl = tonumber(ARGV[3])
if held >= tonumber(ARGV[2]) then return {0, held} end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return {1, held + 1}
`)

// renewScript: KEYS[1] the slots of a key; ARGV lease, ttl (ms). Moves
// the lease's expiry ttl from now, if it is still held.
var renewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[2])
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[1]) == 1 then
	redis.call('PEXPIRE', KEYS[1], ttl * 2)
end
return 0
`)

// Acquire implements limiter.SlotStore.
func (s *Slots) Acquire(ctx context.Context, key limiter.Key, limit int) (string, int, error) {
	lease := s.id + strconv.FormatUint(s.n.Add(1), 36)
	rk := redisclient.Key(s.prefix, key[:])
	res, err := acquireScript.Run(ctx, s.rdb, []string{rk}, lease, limit, s.ttl.Milliseconds()).Int64Slice()
	if err != nil {
		return "", 0, fmt.Errorf("redis slot store: acquire: %w", err)
	}
	if len(res) != 2 {
		return "", 0, fmt.Errorf("redis slot store: acquire: script returned %d values, want 2", len(res))
	}
	if res[0] != 1 {
		return "", int(res[1]), nil
	}
	s.mu.Lock()
	s.held[lease] = rk
	s.mu.Unlock()
	return lease, int(res[1]), nil
}

// Release implements limiter.SlotStore.
func (s *Slots) Release(ctx context.Context, key limiter.Key, lease string) error {
	s.mu.Lock()
	delete(s.held, lease)
	s.mu.Unlock()
	if err := s.rdb.ZRem(ctx, redisclient.Key(s.prefix, key[:]), lease).Err(); err != nil {
		return fmt.Errorf("redis slot store: release: %w", err)
	}
	return nil
}

// renew renews the held leases every third of their TTL until Close.
func (s *Slots) renew() {
	defer close(s.done)
	tick := time.NewTicker(s.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		s.mu.Lock()
		leases := make(map[string]string, len(s.held))
		for l, k := range s.held {
			leases[l] = k
		}
		s.mu.Unlock()
		if len(leases) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.ttl/3)
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for lease, rk := range leases {
				// Eval, not Run: a pipeline cannot fall back from EVALSHA.
				renewScript.Eval(ctx, p, []string{rk}, lease, s.ttl.Milliseconds())
			}
			return nil
		})
		cancel()
	}
}

// Close stops the renewals: the leases still held lapse within the TTL.
func (s *Slots) Close() error {
	close(s.stop)
	<-s.done
	return nil
}
