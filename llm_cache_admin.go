package llmgate

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/llmgate/caddy-llmgate/cache"
)

// cacheInfo describes one store for the admin API.
type cacheInfo struct {
	// Backend is the storage module: memory, redis, redis_cluster or
	// redis_sentinel.
	Backend string `json:"backend"`
	// MaxSize is a memory store's bound in bytes.
	MaxSize int64 `json:"max_size,omitempty"`
	// Server is a Redis store's URL, its password masked.
	Server string `json:"server,omitempty"`
	// Local is the bound in bytes of a Redis store's local tier.
	Local int64 `json:"local,omitempty"`
	cache.Stats
	// LocalStats is what the local tier of this instance holds.
	LocalStats *cache.Stats `json:"local_stats,omitempty"`
	// Error is why the stats could not be read.
	Error string `json:"error,omitempty"`

	store cache.Admin
}

// CacheAdmin is the admin API of llm_cache, on Caddy's admin endpoint:
//
//	GET    /llm/cache/stats          entries and bytes of every store
//	DELETE /llm/cache                drop every entry
//	DELETE /llm/cache?model=<name>   drop the entries of one model
//
// It covers the stores of every loaded config, memory and Redis.
type CacheAdmin struct{}

// CaddyModule returns the Caddy module information.
func (CacheAdmin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.llm_cache",
		New: func() caddy.Module { return new(CacheAdmin) },
	}
}

// Routes implements caddy.AdminRouter.
func (a CacheAdmin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/llm/cache/stats", Handler: caddy.AdminHandlerFunc(a.stats)},
		{Pattern: "/llm/cache", Handler: caddy.AdminHandlerFunc(a.purge)},
	}
}

func (CacheAdmin) stats(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	stores := liveCaches.list()
	for i := range stores {
		st, err := stores[i].store.Stats(r.Context())
		stores[i].Stats = st
		if t, ok := stores[i].store.(*cache.TieredStore); ok {
			local := t.LocalStats()
			stores[i].LocalStats = &local
		}
		if err != nil {
			stores[i].Error = err.Error()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"stores": stores})
}

func (CacheAdmin) purge(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodDelete {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	model, byModel := r.URL.Query()["model"]
	if byModel && (len(model) != 1 || model[0] == "") {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("model: want one model name")}
	}
	for _, s := range liveCaches.list() {
		var err error
		if byModel {
			err = s.store.PurgeModel(r.Context(), model[0])
		} else {
			err = s.store.Purge(r.Context())
		}
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadGateway, Err: fmt.Errorf("%s store: %v", s.Backend, err)}
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Interface guards
var _ caddy.AdminRouter = (*CacheAdmin)(nil)
