package llmgate

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/redisstore"
	ulule "github.com/ulule/limiter/v3"
)

// RateLimitRedis keeps llm_ratelimit state in Redis, shared by every Caddy
// instance that uses the same server (or cluster, see
// RateLimitRedisCluster and RateLimitRedisSentinel): two instances with `requests 10/s`
// admit 10 a second together. Token and leaky buckets are decided in one
// atomic step on the server (on its clock); fixed windows use Redis
// counters. Keys are hashed and prefixed (llmgate:rl:…). Concurrency caps
// hold across instances too: each slot is a lease (llmgate:slots:…).
type RateLimitRedis struct {
	RedisStorage

	slots    *redisstore.Slots
	slotsKey string
	// buckets is the bucket store of every zone, one value so that the
	// limiter charges a request's zones in one round trip.
	buckets *redisstore.Store
}

// CaddyModule returns the Caddy module information.
func (RateLimitRedis) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  llmcaddyfile.RateLimitStorageNamespace + ".redis",
		New: func() caddy.Module { return new(RateLimitRedis) },
	}
}

// Provision connects (lazily) to the server.
func (m *RateLimitRedis) Provision(ctx caddy.Context) error { return m.provision(ctx) }

// Cleanup releases the connection pool and the slot store.
func (m *RateLimitRedis) Cleanup() error {
	if m.slotsKey != "" {
		_ = release(redisPool, m.slotsKey)
	}
	return m.cleanup()
}

// SlotStore implements sharedSlots: concurrency caps across every
// instance, each slot a lease in Redis that lapses a few seconds after
// its instance stops renewing it. One store per server and process, kept
// across reloads: requests of a replaced config go on renewing theirs.
func (m *RateLimitRedis) SlotStore() limiter.SlotStore {
	if m.slots == nil {
		m.slotsKey = "slots." + m.poolKey
		v, _, _ := redisPool.LoadOrNew(m.slotsKey, func() (caddy.Destructor, error) {
			return pooledSlots{redisstore.NewSlots(m.client.Universal, redisstore.Options{KeyPrefix: m.client.Prefix}, 0)}, nil
		})
		m.slots = v.(pooledSlots).Slots
	}
	return m.slots
}

type pooledSlots struct{ *redisstore.Slots }

func (p pooledSlots) Destruct() error { return p.Close() }

// RateLimitStores implements RateLimitStorage. Zones share the server,
// and one bucket store; their keys are salted by zone name.
func (m *RateLimitRedis) RateLimitStores(string) (limiter.BucketStore, ulule.Store, error) {
	opts := redisstore.Options{KeyPrefix: m.client.Prefix, Waiter: m.client}
	if m.buckets == nil {
		m.buckets = redisstore.New(m.client.Universal, opts)
	}
	return m.buckets, redisstore.NewWindowStore(m.client.Universal, opts), nil
}

// Interface guards
var (
	_ caddy.Provisioner     = (*RateLimitRedis)(nil)
	_ caddy.CleanerUpper    = (*RateLimitRedis)(nil)
	_ RateLimitStorage      = (*RateLimitRedis)(nil)
	_ sharedSlots           = (*RateLimitRedis)(nil)
	_ caddyfile.Unmarshaler = (*RateLimitRedis)(nil)
)
