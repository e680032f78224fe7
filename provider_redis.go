package llmgate

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/provider/redisshare"
)

// ProviderRedis shares what llm_provider learns of its keys with every
// Caddy instance that uses the same Redis: a key one instance saw answer
// 429 sits out on all of them until the provider's reset. Keys are the
// provider keys' fingerprints (llmgate:pv:…), never the keys. With Redis
// away each instance learns alone.
type ProviderRedis struct {
	RedisStorage
}

// ProviderStorage is implemented by the modules of the
// http.llm_provider.storage namespace.
type ProviderStorage interface {
	// ShareHealth returns what shares a pool's key health; onError hears
	// of its failures.
	ShareHealth(onError func(error)) *redisshare.Health
}

// CaddyModule returns the Caddy module information.
func (ProviderRedis) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  llmcaddyfile.ProviderStorageNamespace + ".redis",
		New: func() caddy.Module { return new(ProviderRedis) },
	}
}

// Provision connects (lazily) to the server.
func (m *ProviderRedis) Provision(ctx caddy.Context) error { return m.provision(ctx) }

// Cleanup releases the connection pool.
func (m *ProviderRedis) Cleanup() error { return m.cleanup() }

// ShareHealth implements ProviderStorage.
func (m *ProviderRedis) ShareHealth(onError func(error)) *redisshare.Health {
	return redisshare.New(m.client.Universal, m.client.Prefix, redisclient.DefaultCommandTimeout, onError)
}

// Interface guards
var (
	_ caddy.Provisioner     = (*ProviderRedis)(nil)
	_ caddy.CleanerUpper    = (*ProviderRedis)(nil)
	_ ProviderStorage       = (*ProviderRedis)(nil)
	_ caddyfile.Unmarshaler = (*ProviderRedis)(nil)
)
