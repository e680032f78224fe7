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
		return nil, "", d.Errf("storage: missing backend (memory, redis, redis_cluster or redis_sentinel)")
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

// ParseRedisStorage reads a Redis backend of either handler and returns
// its URL:
//
//	storage redis <url>
//	storage redis_cluster <url>
//	storage redis_sentinel <url>
//
// The backend's name says the URL's form (see redisclient.Mode). The URL
// is checked now, so a bad one fails `caddy adapt` with its line; one
// holding placeholders (such as {env.REDIS_URL}) is checked at load.
func ParseRedisStorage(d *caddyfile.Dispenser) (string, error) {
	d.Next() // module name
	name := d.Val()
	mode := redisMode(name)
	if !d.NextArg() {
		return "", d.Errf("%s: missing url, e.g. %s", name, redisExamples[mode])
	}
	url := d.Val()
	if d.NextArg() {
		return "", d.Errf("%s: unexpected argument %q", name, d.Val())
	}
	if hasPlaceholder(url) {
		return url, nil
	}
	c, err := redisclient.Open(mode, url, redisclient.Options{})
	if err != nil {
		return "", d.Errf("%s: %v", name, err)
	}
	return url, c.Close()
}

// redisExamples are URLs of each mode's form, for messages.
var redisExamples = map[redisclient.Mode]string{
	redisclient.Single:   "redis://127.0.0.1:6379/0",
	redisclient.Cluster:  "redis://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000",
	redisclient.Sentinel: "redis://10.0.0.1:26379/0?master_name=mymaster&addr=10.0.0.2:26379",
}

// redisMode is the mode of the Redis backend named name.
func redisMode(name string) redisclient.Mode {
	for _, m := range []redisclient.Mode{redisclient.Cluster, redisclient.Sentinel} {
		if m.String() == name {
			return m
		}
	}
	return redisclient.Single
}
