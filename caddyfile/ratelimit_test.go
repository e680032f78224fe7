package caddyfile_test

import (
	"testing"
)

func TestAdaptRateLimit(t *testing.T) {
	checkAdapt(t, handlers, []adaptCase{
		{
			name: "smallest config, ordered before the cache and the proxy",
			in:   "reverse_proxy localhost:9000\nllm_cache\nllm_ratelimit {\n zone z {\n key static\n requests 10/s\n }\n}",
			want: `{"handler":"llm_ratelimit","zones":{"z":{"key":"static","requests":"10/s"}}}
{"handler":"llm_cache"}
{"handler":"reverse_proxy","upstreams":[{"dial":"localhost:9000"}]}`,
		},
		{
			name: "every option",
			in: `llm_ratelimit {
				zone per_key {
					key {http.request.header.Authorization}
					requests 60/m
					tokens 90000/m
					burst 10
					concurrency 4
					algorithm token_bucket
				}
				zone gpt4 {
					match header X-Model gpt-4*
					key {http.request.header.Authorization}
					requests 100/10s
					algorithm fixed_window
				}
				zone upstream {
					key static
					requests 5/s
					burst 10
					algorithm leaky_bucket
					max_wait 5s
				}
				storage memory
				on_storage_error closed
				headers ietf
			}`,
			want: `{"handler":"llm_ratelimit","headers":"ietf","on_storage_error":"closed","storage":{"backend":"memory"},"zones":{"gpt4":{"algorithm":"fixed_window","key":"{http.request.header.Authorization}","match":{"header":{"X-Model":["gpt-4*"]}},"requests":"100/10s"},"per_key":{"algorithm":"token_bucket","burst":10,"concurrency":4,"key":"{http.request.header.Authorization}","requests":"60/m","tokens":"90000/m"},"upstream":{"algorithm":"leaky_bucket","burst":10,"key":"static","max_wait":"5s","requests":"5/s"}}}`,
		},
		{
			name: "prices, a prices file and cost zones",
			in: `llm_ratelimit {
				prices {
					gpt-4o-mini  input 0.15  output 0.60  cached_input 0.075  # per 1M tokens
					claude-*     input 3     output 15    cache_write 3.75  cache_read 0.30
					*            input 10    output 30
				}
				prices_file /etc/caddy/prices.json
				zone team_budget {
					key {http.llm.team}
					cost 25/d
					algorithm fixed_window
				}
				zone hourly {
					cost 0.5/h
					tokens_in 30000/m
					tokens_out 8000/m
				}
			}`,
			want: `{"handler":"llm_ratelimit","prices":{"*":{"input":"10.00","output":"30.00"},"claude-*":{"cache_read":"0.30","cache_write":"3.75","input":"3.00","output":"15.00"},"gpt-4o-mini":{"cached_input":"0.075","input":"0.15","output":"0.60"}},"prices_file":"/etc/caddy/prices.json","zones":{"hourly":{"cost":"0.50/h","tokens_in":"30000/m","tokens_out":"8000/m"},"team_budget":{"algorithm":"fixed_window","cost":"25.00/d","key":"{http.llm.team}"}}}`,
		},
		{
			name: "match block, concurrency alone, default key",
			in:   "llm_ratelimit {\n zone c {\n match {\n path /v1/*\n method POST\n }\n concurrency 2\n }\n}",
			want: `{"handler":"llm_ratelimit","zones":{"c":{"concurrency":2,"match":{"method":["POST"],"path":["/v1/*"]}}}}`,
		},
	})
}

func TestAdaptRateLimitErrors(t *testing.T) {
	zone := func(body string) string { return "llm_ratelimit {\n zone z {\n" + body + "\n }\n}" }
	checkAdaptErrors(t, handlers, []errorCase{
		{"zero rate", zone("requests 0/m"), `requests: invalid rate "0/m": the count must be a positive integer`, "at Caddyfile:4"},
		{"bad period", zone("requests 5/fortnight"), `the period must be s, m, h, d`, "at Caddyfile:4"},
		{"no slash", zone("requests 60"), `want <count>/<period>`, "at Caddyfile:4"},
		{"zero tokens", zone("tokens 0/m"), `tokens: invalid rate "0/m"`, "at Caddyfile:4"},
		{"negative burst", zone("requests 1/s\nburst -1"), `burst: want a positive integer, got "-1"`, "at Caddyfile:5"},
		{"unknown algorithm", zone("requests 1/s\nalgorithm fifo"), `unknown algorithm "fifo"`, "at Caddyfile:6"},
		{"burst with fixed window", zone("requests 1/d\nalgorithm fixed_window\nburst 3"), `burst does not apply to fixed_window`, "at Caddyfile:7"},
		{"limits nothing", zone("key static"), `limits nothing`, "at Caddyfile:5"},
		{"unknown zone option", zone("colour blue"), `zone z: unrecognized option "colour"`, "at Caddyfile:4"},
		{"repeated zone option", zone("requests 1/s\nrequests 2/s"), `requests: already specified`, "at Caddyfile:5"},
		{"repeated zone", "llm_ratelimit {\n zone z {\n requests 1/s\n }\n zone z {\n requests 1/s\n }\n}", `zone z: already specified`, "at Caddyfile:6"},
		{"zone without name", "llm_ratelimit {\n zone {\n requests 1/s\n }\n}", `zone: missing name`, "at Caddyfile:3"},
		{"no zone", "llm_ratelimit {\n headers none\n}", `llm_ratelimit: no zone defined`, "at Caddyfile:4"},
		{"bad storage error mode", "llm_ratelimit {\n on_storage_error maybe\n}", `on_storage_error: unknown value "maybe"`, "at Caddyfile:3"},
		{"bad headers", "llm_ratelimit {\n headers loud\n}", `headers: limiter: unknown header style "loud"`, "at Caddyfile:3"},
		{"unknown matcher", zone("match colour blue\nrequests 1/s"), `getting matcher module 'colour'`, "at Caddyfile:4"},
		{"bad redis url", "llm_ratelimit {\n storage redis ftp://127.0.0.1:6379\n}", "redis: ", "at Caddyfile:3"},
		{"redis password kept out of errors", "llm_ratelimit {\n storage redis redis://:hunter2@127.0.0.1:6379/x\n}", "redis: ", "at Caddyfile:3"},
		{"negative price", "llm_ratelimit {\n prices {\n m input -1 output 2\n }\n}", `prices: m: input: invalid price "-1": negative`, "at Caddyfile:4"},
		{"non-numeric price", "llm_ratelimit {\n prices {\n m input 1 output cheap\n }\n}", `prices: m: output: invalid price "cheap"`, "at Caddyfile:4"},
		{"unknown price kind", "llm_ratelimit {\n prices {\n m input 1 output 2 images 3\n }\n}", `prices: m: unknown kind "images"`, "at Caddyfile:4"},
		{"price without output", "llm_ratelimit {\n prices {\n m input 1\n }\n}", `prices: m: missing output price`, "at Caddyfile:4"},
		{"price kind without value", "llm_ratelimit {\n prices {\n m input 1 output\n }\n}", `prices: m: output: missing value`, "at Caddyfile:4"},
		{"model priced twice", "llm_ratelimit {\n prices {\n m input 1 output 2\n m input 1 output 2\n }\n}", `prices: m: already specified`, "at Caddyfile:5"},
		{"empty prices", "llm_ratelimit {\n prices {\n }\n}", `prices: no model priced`, "at Caddyfile:4"},
		{"zero cost", zone("cost 0/d"), `cost: invalid cost rate "0/d": the amount must be positive`, "at Caddyfile:4"},
		{"cost finer than a microdollar", zone("cost 0.0000001/d"), `finer than a millionth`, "at Caddyfile:4"},
		{"cost without prices", zone("cost 5/d"), `zone z: a cost rate needs prices or a prices_file`, "at Caddyfile:6"},
		{"zero input tokens", zone("tokens_in 0/m"), `tokens_in: invalid rate "0/m"`, "at Caddyfile:4"},
		{"unknown storage", "llm_ratelimit {\n storage floppy\n}", "getting module named 'http.llm_ratelimit.storage.floppy'", "at Caddyfile:3"},
	})
}
