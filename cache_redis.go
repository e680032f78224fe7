package llmgate

import (
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/redisstore"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/units"
)

// CacheRedis keeps llm_cache entries in Redis, shared by every Caddy
// instance that uses the same server (or cluster, see CacheRedisCluster and
// CacheRedisSentinel). Entries expire with their TTL; the
// memory bound is Redis' own (maxmemory and its eviction policy). Keys are
// hashes (llmgate:cache:…): nothing in Redis reveals a credential. When
// Redis is unreachable, requests pass through to the upstream.
//
// With Local set, each instance keeps copies of the entries it reads or
// stores in its own memory, in front of Redis (cache.TieredStore): a copy
// lives no longer than its entry in Redis, and a purge through the admin
// API of any instance reaches every instance's copies (Redis pub/sub on
// the channel <key_prefix>cache:purge). An instance that cannot hear that
// channel serves no copies until it hears it again.
type CacheRedis struct {
	RedisStorage
	// Upper bound of the memory held by the local copies, in bytes,
	// bounded as max_size bounds a memory store (at least 32MiB). Default
	// 0: no local tier.
	Local units.Size `json:"local,omitempty"`

	store    cache.Shared
	tier     *pooledTier
	localKey string
}

// CaddyModule returns the Caddy module information.
func (CacheRedis) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  llmcaddyfile.CacheStorageNamespace + ".redis",
		New: func() caddy.Module { return new(CacheRedis) },
	}
}

// Provision connects (lazily) to the server.
func (m *CacheRedis) Provision(ctx caddy.Context) error {
	if err := m.provision(ctx); err != nil {
		return err
	}
	if m.Local < 0 {
		return fmt.Errorf("local: must be positive, got %d", m.Local)
	}
	if m.Local == 0 {
		m.store = redisstore.New(m.client.Universal, redisstore.Options{KeyPrefix: m.client.Prefix})
	} else {
		var err error
		if m.tier, m.localKey, err = localCacheTier(m.poolKey, m.client, int64(m.Local)); err != nil {
			return err
		}
		m.store = m.tier.TieredStore
		liveMemory.add(m.tier.mem, m.tier.mem)
	}
	liveCaches.add(m.store, cacheInfo{Backend: m.mode.String(), Server: m.client.String(), Local: int64(m.Local), store: m.store})
	return nil
}

// Cleanup releases the connection pool.
func (m *CacheRedis) Cleanup() error {
	if m.store != nil {
		liveCaches.remove(m.store)
	}
	if m.tier != nil {
		liveMemory.remove(m.tier.mem)
	}
	// The tier listens through the client: it goes first.
	return errors.Join(release(memoryPool, m.localKey), m.cleanup())
}

// CacheStore implements CacheStorage.
func (m *CacheRedis) CacheStore() cache.Store { return m.store }

// Interface guards
var (
	_ caddy.Provisioner     = (*CacheRedis)(nil)
	_ caddy.CleanerUpper    = (*CacheRedis)(nil)
	_ CacheStorage          = (*CacheRedis)(nil)
	_ caddyfile.Unmarshaler = (*CacheRedis)(nil)
)
