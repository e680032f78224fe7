package llmgate

import (
	"github.com/caddyserver/caddy/v2"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// The cluster and Sentinel twins of the Redis storage modules: the same
// stores and code, their client made in another mode. Each key a store
// writes is one key of one hash slot, so every script runs on a cluster.

// RateLimitRedisCluster is RateLimitRedis over a Redis Cluster
// (`storage redis_cluster redis://node:7000?addr=node2:7000`).
type RateLimitRedisCluster struct{ RateLimitRedis }

// CaddyModule returns the Caddy module information.
func (RateLimitRedisCluster) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID: llmcaddyfile.RateLimitStorageNamespace + ".redis_cluster",
		New: func() caddy.Module {
			return &RateLimitRedisCluster{RateLimitRedis{RedisStorage: RedisStorage{mode: redisclient.Cluster}}}
		},
	}
}

// RateLimitRedisSentinel is RateLimitRedis on the primary that Sentinel
// names, followed through failovers
// (`storage redis_sentinel redis://sentinel:26379/0?master_name=mymaster`).
type RateLimitRedisSentinel struct{ RateLimitRedis }

// CaddyModule returns the Caddy module information.
func (RateLimitRedisSentinel) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID: llmcaddyfile.RateLimitStorageNamespace + ".redis_sentinel",
		New: func() caddy.Module {
			return &RateLimitRedisSentinel{RateLimitRedis{RedisStorage: RedisStorage{mode: redisclient.Sentinel}}}
		},
	}
}

// CacheRedisCluster is CacheRedis over a Redis Cluster.
type CacheRedisCluster struct{ CacheRedis }

// CaddyModule returns the Caddy module information.
func (CacheRedisCluster) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID: llmcaddyfile.CacheStorageNamespace + ".redis_cluster",
		New: func() caddy.Module {
			return &CacheRedisCluster{CacheRedis{RedisStorage: RedisStorage{mode: redisclient.Cluster}}}
		},
	}
}

// CacheRedisSentinel is CacheRedis on the primary that Sentinel names,
// followed through failovers.
type CacheRedisSentinel struct{ CacheRedis }

// CaddyModule returns the Caddy module information.
func (CacheRedisSentinel) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID: llmcaddyfile.CacheStorageNamespace + ".redis_sentinel",
		New: func() caddy.Module {
			return &CacheRedisSentinel{CacheRedis{RedisStorage: RedisStorage{mode: redisclient.Sentinel}}}
		},
	}
}

// ProviderRedisCluster is ProviderRedis over a Redis Cluster.
type ProviderRedisCluster struct{ ProviderRedis }

// CaddyModule returns the Caddy module information.
func (ProviderRedisCluster) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID: llmcaddyfile.ProviderStorageNamespace + ".redis_cluster",
		New: func() caddy.Module {
			return &ProviderRedisCluster{ProviderRedis{RedisStorage{mode: redisclient.Cluster}}}
		},
	}
}

// ProviderRedisSentinel is ProviderRedis on the primary that Sentinel
// names, followed through failovers.
type ProviderRedisSentinel struct{ ProviderRedis }

// CaddyModule returns the Caddy module information.
func (ProviderRedisSentinel) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID: llmcaddyfile.ProviderStorageNamespace + ".redis_sentinel",
		New: func() caddy.Module {
			return &ProviderRedisSentinel{ProviderRedis{RedisStorage{mode: redisclient.Sentinel}}}
		},
	}
}

// Interface guards
var (
	_ ProviderStorage  = (*ProviderRedisCluster)(nil)
	_ ProviderStorage  = (*ProviderRedisSentinel)(nil)
	_ RateLimitStorage = (*RateLimitRedisCluster)(nil)
	_ RateLimitStorage = (*RateLimitRedisSentinel)(nil)
	_ CacheStorage     = (*CacheRedisCluster)(nil)
	_ CacheStorage     = (*CacheRedisSentinel)(nil)
	_ redisBacked      = (*RateLimitRedisCluster)(nil)
	_ redisBacked      = (*CacheRedisSentinel)(nil)
)
