package llmgate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/cache"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
)

// Cache is the llm_cache handler: it answers repeated LLM API requests from
// a cache keyed by the canonical JSON body, model and caller, and stores
// complete 200 answers of the upstream behind it.
type Cache struct {
	cache.Config

	// Where entries are kept. Default: memory, 256MiB.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=http.llm_cache.storage inline_key=backend"`

	cache *cache.Cache
	// redis is set when the entries are in Redis.
	redis bool
}

// CacheStorage is implemented by the modules of the http.llm_cache.storage
// namespace.
type CacheStorage interface {
	CacheStore() cache.Store
}

// CaddyModule returns the Caddy module information.
func (Cache) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.llm_cache",
		New: func() caddy.Module { return new(Cache) },
	}
}

// Provision sets up the cache and its storage.
func (h *Cache) Provision(ctx caddy.Context) error {
	registerMetrics(ctx)
	warnUnredactedLogs(ctx)
	if h.StorageRaw == nil {
		h.StorageRaw = json.RawMessage(`{"backend":"memory"}`)
	}
	mod, err := ctx.LoadModule(h, "StorageRaw")
	if err != nil {
		return fmt.Errorf("loading llm_cache storage: %v", err)
	}
	h.Store = mod.(CacheStorage).CacheStore()
	_, h.redis = mod.(redisBacked)
	h.Logger = sampled(ctx.Logger())
	switch scope := h.Scope; scope {
	case "", cache.ScopeKey, cache.ScopeShared:
	default:
		h.Partition = func(r *http.Request) string {
			repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
			return repl.ReplaceAll(scope, "")
		}
	}
	h.cache, err = cache.New(h.Config)
	return err
}

// ServeHTTP answers from the cache or passes the request on.
func (h *Cache) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	withPlaceholders(r)
	// Read when used, from the answer's Cache-Status: a deferred header
	// is set as the answer starts, before Serve returns.
	replacer(r).Map(func(key string) (any, bool) {
		if key != phCache {
			return nil, false
		}
		switch result := cacheResult(w.Header().Get("Cache-Status")); result {
		case "stored", "coalesced":
			return "miss", true
		default:
			return result, true
		}
	})
	r = withBodyMemo(r)
	if h.redis {
		r = withRedisBudget(r)
	}
	err := h.cache.Serve(w, r, next)
	result := cacheResult(w.Header().Get("Cache-Status"))
	counter(cacheRequests, result).Inc()
	if result == "hit" || result == "coalesced" {
		cacheSaved.Inc()
	}
	return err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	llm_cache [<matcher>] {
//	    ttl           <duration>              # default 1h
//	    ttl_model     <model|glob> <duration> # repeatable
//	    max_size      <size>                  # memory storage bound, default 256MiB
//	    max_body      <size>                  # larger requests bypass, default 1MiB
//	    max_response  <size>                  # larger answers are not stored, default 8MiB
//	    scope         key|shared|<placeholder>
//	    ignore_fields <field...>
//	    paths         <path...>
//	    storage       <module> [<args...>]    # default memory
//	    coalesce      on|off                  # share one upstream call among identical requests, default on
//	}
func (h *Cache) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	cfg, storage, err := llmcaddyfile.ParseCache(d)
	if err != nil {
		return err
	}
	h.Config, h.StorageRaw = cfg, storage
	return nil
}

// cacheResult reads what llm_cache did from its Cache-Status: hit,
// coalesced, stored, bypass or miss.
func cacheResult(status string) string {
	switch {
	case strings.HasPrefix(status, "llmgate; hit"):
		return "hit"
	case strings.Contains(status, "collapsed"):
		return "coalesced"
	case strings.Contains(status, "fwd=bypass"):
		return "bypass"
	case strings.HasSuffix(status, "; stored"):
		return "stored"
	}
	return "miss"
}

func parseCache(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	c := new(Cache)
	err := c.UnmarshalCaddyfile(h.Dispenser)
	return c, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Cache)(nil)
	_ caddyhttp.MiddlewareHandler = (*Cache)(nil)
	_ caddyfile.Unmarshaler       = (*Cache)(nil)
)
