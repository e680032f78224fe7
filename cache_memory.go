package llmgate

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/units"
)

// memoryStores keeps memory stores alive across config reloads: a reload
// that keeps the same max_size keeps every entry.
var memoryStores = caddy.NewUsagePool()

// CacheMemory keeps llm_cache entries in process memory.
type CacheMemory struct {
	// Upper bound of the memory held by entries, in bytes (cost counted
	// as body size plus a fixed overhead per entry). Default: 256MiB.
	MaxSize units.Size `json:"max_size,omitempty"`

	poolKey string
	store   *cache.MemoryStore
}

// CaddyModule returns the Caddy module information.
func (CacheMemory) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.llm_cache.storage.memory",
		New: func() caddy.Module { return new(CacheMemory) },
	}
}

// Provision finds or makes the store of this size.
func (m *CacheMemory) Provision(caddy.Context) error {
	size := int64(m.MaxSize)
	if size == 0 {
		size = cache.DefaultMaxSize
	}
	m.poolKey = "llm_cache.memory." + strconv.FormatInt(size, 10)
	v, _, err := memoryStores.LoadOrNew(m.poolKey, func() (caddy.Destructor, error) {
		s, err := cache.NewMemoryStore(size)
		return pooledMemory{s}, err
	})
	if err != nil {
		return err
	}
	m.store = v.(pooledMemory).MemoryStore
	liveMemory.add(m.store, m.store)
	liveCaches.add(m.store, cacheInfo{Backend: "memory", MaxSize: size, store: m.store})
	return nil
}

// Cleanup releases this config's hold on the store.
func (m *CacheMemory) Cleanup() error {
	if m.store != nil {
		liveMemory.remove(m.store)
		liveCaches.remove(m.store)
	}
	_, err := memoryStores.Delete(m.poolKey)
	return err
}

// CacheStore implements CacheStorage.
func (m *CacheMemory) CacheStore() cache.Store { return m.store }

// UnmarshalCaddyfile reads `storage memory` (the size is set with the
// llm_cache option max_size).
func (m *CacheMemory) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

type pooledMemory struct{ *cache.MemoryStore }

func (p pooledMemory) Destruct() error {
	p.Close()
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner     = (*CacheMemory)(nil)
	_ caddy.CleanerUpper    = (*CacheMemory)(nil)
	_ CacheStorage          = (*CacheMemory)(nil)
	_ caddyfile.Unmarshaler = (*CacheMemory)(nil)
)
