// Package llmgate is a set of Caddy HTTP handlers and logging
// modules for gateways in front of OpenAI-compatible and Anthropic APIs:
// rate limits on requests and tokens, a response cache keyed by the
// canonical request body, and log redaction of API keys.
//
// Importing this package registers every llmgate module and Caddyfile
// directive, which is what `xcaddy build --with
// github.com/llmgate/caddy-llmgate` does.
package llmgate

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Auth{})
	caddy.RegisterModule(Cache{})
	caddy.RegisterModule(CacheMemory{})
	caddy.RegisterModule(RateLimit{})
	caddy.RegisterModule(RateLimitMemory{})
	caddy.RegisterModule(RedactEncoder{})
	caddy.RegisterModule(RedactFilter{})
	caddy.RegisterModule(MatchModel{})
	caddy.RegisterModule(RateLimitRedis{})
	caddy.RegisterModule(CacheRedis{})
	caddy.RegisterModule(RateLimitRedisCluster{})
	caddy.RegisterModule(CacheRedisCluster{})
	caddy.RegisterModule(RateLimitRedisSentinel{})
	caddy.RegisterModule(CacheRedisSentinel{})
	caddy.RegisterModule(ProviderRedisCluster{})
	caddy.RegisterModule(ProviderRedisSentinel{})
	caddy.RegisterModule(CacheAdmin{})
	caddy.RegisterModule(RateLimitAdmin{})
	caddy.RegisterModule(Provider{})
	caddy.RegisterModule(ProviderRedis{})

	httpcaddyfile.RegisterHandlerDirective("llm_auth", parseHandler[Auth])
	httpcaddyfile.RegisterHandlerDirective("llm_ratelimit", parseHandler[RateLimit])
	httpcaddyfile.RegisterHandlerDirective("llm_cache", parseHandler[Cache])
	httpcaddyfile.RegisterHandlerDirective("llm_provider", parseHandler[Provider])
	// Users need no `order` option: gateway keys, limits, then the
	// cache, then the provider keys, then the proxy. A cache hit is then counted by the limits;
	// inside a route block users choose the other order.
	// (Orders can only name standard directives: each insertion lands
	// right before reverse_proxy, after the ones made earlier.)
	httpcaddyfile.RegisterDirectiveOrder("llm_auth", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("llm_ratelimit", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("llm_cache", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("llm_provider", httpcaddyfile.Before, "reverse_proxy")
}

// parseHandler reads the directive of a handler that reads itself from
// Caddyfile tokens.
func parseHandler[T any, H interface {
	*T
	caddyhttp.MiddlewareHandler
	caddyfile.Unmarshaler
}](h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := H(new(T))
	return handler, handler.UnmarshalCaddyfile(h.Dispenser)
}
