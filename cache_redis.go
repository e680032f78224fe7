package llmgate

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/redisstore"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
)

// CacheRedis keeps llm_cache entries in Redis, shared by every Caddy
// instance that uses the same server (or cluster, see CacheRedisCluster and
// CacheRedisSentinel). Entries expire with their TTL; the
// memory bound is Redis' own (maxmemory and its eviction policy). Keys are
// hashes (llmgate:cache:…): nothing in Redis reveals a credential. When
// Redis is unreachable, requests pass through to the upstream.
type CacheRedis struct {
	RedisStorage

	store *redisstore.Store
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
	m.store = redisstore.New(m.client.Universal, redisstore.Options{KeyPrefix: m.client.Prefix})
	liveCaches.add(m.store, cacheInfo{Backend: m.mode.String(), Server: m.client.String(), store: m.store})
	return nil
}

// Cleanup releases the connection pool.
func (m *CacheRedis) Cleanup() error {
	if m.store != nil {
		liveCaches.remove(m.store)
	}
	return m.cleanup()
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
