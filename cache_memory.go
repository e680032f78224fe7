package llmgate

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/cache"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/units"
)

// CacheMemory keeps llm_cache entries in process memory.
type CacheMemory struct {
	// Upper bound of the memory held by entries, in bytes, outside the
	// Go heap: at least 32MiB, used in whole steps of 32MiB. One entry
	// may take a 32nd of it. Default: 256MiB.
	MaxSize units.Size `json:"max_size,omitempty"`

	poolKey string
	store   *cache.MemoryStore
}

// CaddyModule returns the Caddy module information.
func (CacheMemory) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  llmcaddyfile.CacheStorageNamespace + ".memory",
		New: func() caddy.Module { return new(CacheMemory) },
	}
}

// Provision finds or makes the store of this size.
func (m *CacheMemory) Provision(caddy.Context) error {
	size := int64(m.MaxSize)
	if size == 0 {
		size = cache.DefaultMaxSize
	}
	// A reload that keeps the same max_size keeps every entry.
	var err error
	if m.store, m.poolKey, err = memoryCacheStore(size); err != nil {
		return fmt.Errorf("max_size: %v", err)
	}
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
	return release(memoryPool, m.poolKey)
}

// CacheStore implements CacheStorage.
func (m *CacheMemory) CacheStore() cache.Store { return m.store }

// UnmarshalCaddyfile reads `storage memory` (llmcaddyfile.ParseMemoryStorage).
func (m *CacheMemory) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return llmcaddyfile.ParseMemoryStorage(d)
}

// Interface guards
var (
	_ caddy.Provisioner     = (*CacheMemory)(nil)
	_ caddy.CleanerUpper    = (*CacheMemory)(nil)
	_ CacheStorage          = (*CacheMemory)(nil)
	_ caddyfile.Unmarshaler = (*CacheMemory)(nil)
)
