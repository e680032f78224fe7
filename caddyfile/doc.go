// Package caddyfile is the Caddyfile grammar of llmgate's directives: it
// reads a directive's tokens into the configuration structs of the cache
// and limiter packages. Errors name the file, line and option. Each
// parser's comment gives the syntax it reads.
//
// Where each option is read, and where it takes effect (paths from the
// repository root; the root package holds the Caddy modules):
//
//	option                         parsed in              implemented in
//	llm_auth
//	  keys_file, key { … }         auth.go                keyring/config.go, keyring/ring.go
//	  from                         auth.go                keyring/ring.go (Check, Strip)
//	llm_ratelimit
//	  zone <name> { … }            ratelimit.go           limiter/zone.go
//	    key                        ratelimit.go           llm_ratelimit.go (keys; hashed in limiter/key.go)
//	    match                      ratelimit.go           llm_ratelimit.go (Provision, keys)
//	    requests, tokens,          limiter/rate.go        limiter/bucket.go, limiter/window.go
//	    tokens_in, tokens_out      limiter/rate.go        limiter/spend.go (Settle), usage/
//	    cost                       limiter/rate.go        limiter/spend.go, pricing/price.go
//	    burst                      ratelimit.go           limiter/zone.go (newMeter)
//	    algorithm                  ratelimit.go           limiter/bucket.go (token, leaky), limiter/window.go (fixed)
//	    max_wait                   ratelimit.go           limiter/limiter.go (admit), limiter/inflight.go
//	    concurrency                ratelimit.go           limiter/inflight.go
//	  prices { … }                 prices.go              pricing/table.go, limiter/serve.go
//	  prices_file                  ratelimit.go           limiter/config.go (PriceTable), pricing/litellm.go
//	  storage memory               storage.go             ratelimit_memory.go, limiter/memstore.go
//	  storage redis <url>          storage.go             ratelimit_redis.go, limiter/redisstore
//	  storage redis_cluster <url>  storage.go             redis_modes.go, limiter/redisstore
//	  storage redis_sentinel <url> storage.go             redis_modes.go, limiter/redisstore
//	  on_storage_error             ratelimit.go           limiter/serve.go (Serve)
//	  headers                      limiter/headers.go     limiter/headers.go
//	  stream_usage                 ratelimit.go           limiter/serve.go (Serve, writeEvents)
//	llm_cache
//	  ttl, ttl_model               cache.go               cache/cache.go (ttlFor)
//	  max_size                     cache.go               cache_memory.go, cache/memory.go
//	  local                        cache.go               cache_redis.go, pools.go, cache/tiered.go, cache/redisstore/purges.go
//	  max_body                     cache.go               cache/cache.go (Serve), llmreq/read.go
//	  max_response                 cache.go               cache/capture.go
//	  scope                        cache.go               cache/cache.go (partition), llm_cache.go (a placeholder scope)
//	  ignore_fields                cache.go               cache/key.go
//	  paths                        cache.go               cache/cache.go (Serve)
//	  storage memory               storage.go             cache_memory.go, cache/memory.go
//	  storage redis <url>          storage.go             cache_redis.go, cache/redisstore
//	  storage redis_cluster <url>  storage.go             redis_modes.go, cache/redisstore
//	  storage redis_sentinel <url> storage.go             redis_modes.go, cache/redisstore
//	  coalesce                     cache.go               cache/coalesce.go, cache/flight.go
//	llm_provider
//	  auth <style> <key…>          provider.go            provider/auth.go, provider/pool.go, llm_provider.go
//	  select                       provider.go            provider/pool.go (pick)
//	  retry_on, max_tries          provider.go            provider/config.go (Retry), provider/handler.go (Serve)
//	  max_wait                     provider.go            provider/handler.go (Serve)
//	llm_model matcher
//	  <pattern…>, unknown          model.go               llm_model.go, llmreq/glob.go
//	  max_body                     model.go               llm_model.go, llmreq/fields.go
//	format llm_redact
//	  wrap                         redact.go              llm_redact.go
//	  pattern                      redact.go              redact/pattern.go
//	<field> llm_redact (filter)
//	  pattern                      redact.go              llm_redact_filter.go, redact/field.go
//
// The Redis URL's query options (pool_size, command_timeout, key_prefix
// and the others) are read by internal/redisclient/url.go, for both
// handlers' redis storage and its cluster and Sentinel modes
// (internal/redisclient/mode.go), in redis.go.
package caddyfile
