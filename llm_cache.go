package llmgate

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/cache"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
)

// Cache is the llm_cache handler: it answers repeated LLM API requests from
// a cache keyed by the canonical JSON body, model and caller, and stores
// complete 200 answers of the upstream behind it. Its answers carry
// Cache-Status (RFC 9211) and, on hits, Age.
//
// This handler sets these placeholders:
//
// Placeholder | Description
// ------------|-------------
// `{http.llm.cache}` | what the cache did: `hit`, `miss` (the request went upstream, alone or sharing an identical request's call) or `bypass` (not a request the cache handles); set before the answer starts, so deferred headers can use it
// `{http.llm.model}` | the `model` of the JSON body, once a handler or matcher read it
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
	if err := h.Validate(); err != nil {
		return err
	}
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
	h.OnError = storeFailures(ctx.Logger(), "cache store")
	h.Report = h.report
	h.Memo = bodyMemo
	if h.placeholderScope() {
		h.Partition = h.partition
	}
	h.cache, err = cache.New(h.Config)
	return err
}

// Validate checks the options. Provision checks them first, so nothing is
// set up from a bad config.
func (h *Cache) Validate() error {
	cfg := h.Config
	if h.placeholderScope() {
		cfg.Partition = h.partition
	}
	return cfg.Validate()
}

// ServeHTTP answers from the cache or passes the request on.
func (h *Cache) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	withPlaceholders(r)
	if h.redis {
		r = withRedisBudget(r)
	}
	return h.cache.Serve(w, r, next)
}

// report keeps what the cache did with r in the request's state, where
// {http.llm.cache} and llm_ratelimit read it, and counts it once done.
func (h *Cache) report(r *http.Request, res cache.Result) {
	state(r).cache = res
	if res.Done {
		countCache(res)
	}
}

// placeholderScope reports whether Scope is a placeholder, whose value
// per request partitions the entries.
func (h *Cache) placeholderScope() bool {
	return h.Scope != "" && h.Scope != cache.ScopeKey && h.Scope != cache.ScopeShared
}

// partition is the value of a placeholder Scope for r.
func (h *Cache) partition(r *http.Request) string { return replacer(r).ReplaceAll(h.Scope, "") }

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens; the syntax
// is on llmcaddyfile.ParseCache.
func (h *Cache) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	cfg, storage, err := llmcaddyfile.ParseCache(d)
	if err != nil {
		return err
	}
	h.Config, h.StorageRaw = cfg, storage
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Cache)(nil)
	_ caddy.Validator             = (*Cache)(nil)
	_ caddyhttp.MiddlewareHandler = (*Cache)(nil)
	_ caddyfile.Unmarshaler       = (*Cache)(nil)
)
