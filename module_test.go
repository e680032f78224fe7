package llmgate_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	llmgate "github.com/llmgate/caddy-llmgate"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
)

// TestStorageNamespaces: the namespace a handler loads its storage module
// from (a struct tag, which cannot name a constant) is the one the
// grammar writes and the storage modules register in.
func TestStorageNamespaces(t *testing.T) {
	for _, tc := range []struct {
		handler   any
		namespace string
		backends  []caddy.Module
	}{
		{llmgate.Cache{}, llmcaddyfile.CacheStorageNamespace, []caddy.Module{llmgate.CacheMemory{}, llmgate.CacheRedis{}}},
		{llmgate.RateLimit{}, llmcaddyfile.RateLimitStorageNamespace, []caddy.Module{llmgate.RateLimitMemory{}, llmgate.RateLimitRedis{}}},
		{llmgate.Provider{}, llmcaddyfile.ProviderStorageNamespace, []caddy.Module{llmgate.ProviderRedis{}, llmgate.ProviderRedisCluster{}, llmgate.ProviderRedisSentinel{}}},
	} {
		f, _ := reflect.TypeOf(tc.handler).FieldByName("StorageRaw")
		if tag := f.Tag.Get("caddy"); !strings.Contains(tag, "namespace="+tc.namespace+" ") {
			t.Errorf("%T: storage tag %q, want namespace %s", tc.handler, tag, tc.namespace)
		}
		for _, m := range tc.backends {
			if ns := m.CaddyModule().ID.Namespace(); ns != tc.namespace {
				t.Errorf("%T registers in %s, want %s", m, ns, tc.namespace)
			}
		}
	}
}
