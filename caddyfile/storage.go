package caddyfile

import (
	"encoding/json"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// The module namespaces of the storage backends: `storage <backend>` is
// the module <namespace>.<backend>.
const (
	CacheStorageNamespace     = "http.llm_cache.storage"
	RateLimitStorageNamespace = "http.llm_ratelimit.storage"
	ProviderStorageNamespace  = "http.llm_provider.storage"
)

// storageModule reads `storage <backend> [<args…>]` into the JSON of the
// backend's module in namespace, with the backend's name.
func storageModule(d *caddyfile.Dispenser, namespace string) (json.RawMessage, string, error) {
	if !d.NextArg() {
		return nil, "", d.Errf("storage: missing backend (memory or redis)")
	}
	backend := d.Val()
	mod, err := caddyfile.UnmarshalModule(d, namespace+"."+backend)
	if err != nil {
		return nil, "", err
	}
	return caddyconfig.JSONModuleObject(mod, "backend", backend, nil), backend, nil
}

// ParseMemoryStorage reads the memory backend of either handler:
//
//	storage memory
//
// It takes no argument: llm_cache's max_size option bounds its store.
func ParseMemoryStorage(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// ParseRedisStorage reads the Redis backend of either handler and returns
// the server's URL:
//
//	storage redis <url>
//
// The URL is checked now, so a bad one fails `caddy adapt` with its line;
// one holding placeholders (such as {env.REDIS_URL}) is checked at load.
func ParseRedisStorage(d *caddyfile.Dispenser) (string, error) {
	d.Next() // module name
	if !d.NextArg() {
		return "", d.Errf("redis: missing url, e.g. redis://127.0.0.1:6379/0")
	}
	url := d.Val()
	if d.NextArg() {
		return "", d.Errf("redis: unexpected argument %q", d.Val())
	}
	if hasPlaceholder(url) {
		return url, nil
	}
	c, err := redisclient.New(url, redisclient.Options{})
	if err != nil {
		return "", d.Errf("redis: %v", err)
	}
	return url, c.Close()
}
