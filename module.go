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
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func init() {
	caddy.RegisterModule(Cache{})
	caddy.RegisterModule(CacheMemory{})

	httpcaddyfile.RegisterHandlerDirective("llm_cache", parseCache)
	// Users need no `order` option: the cache answers before the proxy.
	httpcaddyfile.RegisterDirectiveOrder("llm_cache", httpcaddyfile.Before, "reverse_proxy")
}
