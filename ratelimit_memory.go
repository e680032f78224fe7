package llmgate

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/limiter"
	ulule "github.com/ulule/limiter/v3"
)

// RateLimitMemory keeps llm_ratelimit state in process memory. Idle keys
// are evicted, and the number of keys held is bounded.
type RateLimitMemory struct {
	// Upper bound of the keys held per zone; when full, a new key evicts
	// one that is nearly drained. Default: 2000000 (about 56 bytes each).
	MaxKeys int `json:"max_keys,omitempty"`

	poolKeys []string
}

// CaddyModule returns the Caddy module information.
func (RateLimitMemory) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  llmcaddyfile.RateLimitStorageNamespace + ".memory",
		New: func() caddy.Module { return new(RateLimitMemory) },
	}
}

// Cleanup releases this config's hold on the zones' state.
func (m *RateLimitMemory) Cleanup() error { return release(memoryPool, m.poolKeys...) }

// RateLimitStores implements RateLimitStorage: the state of zone id lives
// as long as some loaded config uses it, so a reload keeps the counts.
func (m *RateLimitMemory) RateLimitStores(id string) (limiter.BucketStore, ulule.Store, error) {
	z, key, err := memoryZoneState(id, m.MaxKeys)
	if err != nil {
		return nil, nil, err
	}
	m.poolKeys = append(m.poolKeys, key)
	return z.buckets, z.windows, nil
}

// UnmarshalCaddyfile reads `storage memory` (llmcaddyfile.ParseMemoryStorage).
func (m *RateLimitMemory) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return llmcaddyfile.ParseMemoryStorage(d)
}

// Interface guards
var (
	_ caddy.CleanerUpper    = (*RateLimitMemory)(nil)
	_ RateLimitStorage      = (*RateLimitMemory)(nil)
	_ caddyfile.Unmarshaler = (*RateLimitMemory)(nil)
)
