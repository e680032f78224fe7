package llmgate

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/limiter"
	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"
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
		ID:  "http.llm_ratelimit.storage.memory",
		New: func() caddy.Module { return new(RateLimitMemory) },
	}
}

// Cleanup releases this config's hold on the zones' state.
func (m *RateLimitMemory) Cleanup() error {
	for _, k := range m.poolKeys {
		if _, err := memoryStores.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// RateLimitStores implements RateLimitStorage: the state of zone id lives
// as long as some loaded config uses it, so a reload keeps the counts.
func (m *RateLimitMemory) RateLimitStores(id string) (limiter.BucketStore, ulule.Store, error) {
	key := "llm_ratelimit.memory." + strconv.Itoa(m.MaxKeys) + "." + id
	v, _, err := memoryStores.LoadOrNew(key, func() (caddy.Destructor, error) {
		return &memoryZone{
			buckets: limiter.NewMemoryStore(limiter.MemoryOptions{MaxKeys: m.MaxKeys}),
			windows: ululemem.NewStore(),
		}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	m.poolKeys = append(m.poolKeys, key)
	z := v.(*memoryZone)
	return z.buckets, z.windows, nil
}

// UnmarshalCaddyfile reads `storage memory`.
func (m *RateLimitMemory) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// memoryZone is the pooled state of one zone.
type memoryZone struct {
	buckets *limiter.MemoryStore
	windows ulule.Store
}

func (z *memoryZone) Destruct() error { return z.buckets.Close() }

// Interface guards
var (
	_ caddy.CleanerUpper    = (*RateLimitMemory)(nil)
	_ RateLimitStorage      = (*RateLimitMemory)(nil)
	_ caddyfile.Unmarshaler = (*RateLimitMemory)(nil)
)
