package caddyfile_test

import "testing"

func TestAdaptProvider(t *testing.T) {
	checkAdapt(t, handlers, []adaptCase{
		{
			name: "ordered after the cache, before the proxy",
			in:   "reverse_proxy https://api.openai.com\nllm_provider {\n auth bearer {env.OPENAI_KEY_1} {env.OPENAI_KEY_2}\n}\nllm_cache\nllm_ratelimit {\n zone z {\n requests 1/s\n }\n}\nllm_auth {\n key k {\n team t\n }\n}",
			want: `{"handler":"llm_auth","keys":[{"key":"k","sha256":"","team":"t"}]}
{"handler":"llm_ratelimit","zones":{"z":{"requests":"1/s"}}}
{"handler":"llm_cache"}
{"auth":"bearer","handler":"llm_provider","keys":["{env.OPENAI_KEY_1}","{env.OPENAI_KEY_2}"]}
{"handler":"reverse_proxy","transport":{"protocol":"http","tls":{}},"upstreams":[{"dial":"api.openai.com:443"}]}`,
		},
		{
			name: "every option",
			in:   "llm_provider {\n auth x-api-key {env.ANTHROPIC_KEY}\n select round_robin\n retry_on 429 529 connect\n max_tries 5\n max_wait 10s\n}",
			want: `{"auth":"x-api-key","handler":"llm_provider","keys":["{env.ANTHROPIC_KEY}"],"max_tries":5,"max_wait":"10s","retry_on":["429","529","connect"],"select":"round_robin"}`,
		},
		{
			name: "no credential",
			in:   "llm_provider {\n auth none\n}",
			want: `{"auth":"none","handler":"llm_provider"}`,
		},
	})
}

func TestAdaptProviderErrors(t *testing.T) {
	block := func(body string) string { return "llm_provider {\n" + body + "\n}" }
	checkAdaptErrors(t, handlers, []errorCase{
		{"unknown auth", block("auth basic k"), `auth: unknown auth "basic"`, "at Caddyfile:3"},
		{"no key", block("auth bearer"), `no key (auth bearer needs at least one)`, "at Caddyfile:4"},
		{"no auth", block("max_tries 2"), `no key (auth bearer needs at least one)`, "at Caddyfile:4"},
		{"bad select", block("auth bearer k\nselect random"), `select: unknown select "random"`, "at Caddyfile:4"},
		{"bad retry_on", block("auth bearer k\nretry_on 200"), `retry_on: "200" is neither an error status`, "at Caddyfile:5"},
		{"zero tries", block("auth bearer k\nmax_tries 0"), `max_tries: want a positive integer`, "at Caddyfile:4"},
		{"negative wait", block("auth bearer k\nmax_wait -1s"), `max_wait: must not be negative`, "at Caddyfile:4"},
		{"repeated option", block("auth bearer k\nauth bearer j"), `auth: already specified`, "at Caddyfile:4"},
		{"unknown option", block("auth bearer k\ncolour blue"), `unrecognized llm_provider option "colour"`, "at Caddyfile:4"},
	})
}
