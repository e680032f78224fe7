package caddyfile_test

import (
	"testing"
)

func TestAdaptCache(t *testing.T) {
	checkAdapt(t, handlers, []adaptCase{
		{
			name: "bare directive",
			in:   "llm_cache\nreverse_proxy localhost:9000",
			want: `{"handler":"llm_cache"}
{"handler":"reverse_proxy","upstreams":[{"dial":"localhost:9000"}]}`,
		},
		{
			name: "order before reverse_proxy without an order option",
			in:   "reverse_proxy localhost:9000\nllm_cache",
			want: `{"handler":"llm_cache"}
{"handler":"reverse_proxy","upstreams":[{"dial":"localhost:9000"}]}`,
		},
		{
			name: "every option",
			in: `llm_cache {
				ttl 1h
				ttl_model text-embedding-3-small 30d
				ttl_model gpt-4* 10m
				max_size 256MiB
				max_body 1MiB
				max_response 8MiB
				scope {http.request.header.X-Team}
				ignore_fields user metadata
				paths /v1/chat/completions /v1/embeddings
				coalesce off
			}`,
			want: `{"coalesce":false,"handler":"llm_cache","ignore_fields":["user","metadata"],"max_body":1048576,"max_response":8388608,"paths":["/v1/chat/completions","/v1/embeddings"],"scope":"{http.request.header.X-Team}","storage":{"backend":"memory","max_size":268435456},"ttl":"1h0m0s","ttl_model":{"gpt-4*":"10m0s","text-embedding-3-small":"720h0m0s"}}`,
		},
		{
			name: "coalesce on",
			in:   "llm_cache {\n coalesce on\n}",
			want: `{"coalesce":true,"handler":"llm_cache"}`,
		},
		{
			name: "explicit memory storage",
			in:   "llm_cache {\n storage memory\n scope shared\n}",
			want: `{"handler":"llm_cache","scope":"shared","storage":{"backend":"memory"}}`,
		},
		{
			name: "local tier before redis",
			in:   "llm_cache {\n storage redis redis://127.0.0.1:6379/0\n local 64MiB\n}",
			want: `{"handler":"llm_cache","storage":{"backend":"redis","local":67108864,"url":"redis://127.0.0.1:6379/0"}}`,
		},
		{
			name: "local tier named before a cluster",
			in:   "llm_cache {\n local 1GiB\n storage redis_cluster redis://10.0.0.1:7000?addr=10.0.0.2:7000\n}",
			want: `{"handler":"llm_cache","storage":{"backend":"redis_cluster","local":1073741824,"url":"redis://10.0.0.1:7000?addr=10.0.0.2:7000"}}`,
		},
	})
}

func TestAdaptCacheErrors(t *testing.T) {
	checkAdaptErrors(t, handlers, []errorCase{
		{"negative ttl", "llm_cache {\n ttl -1s\n}", "ttl: must not be negative", "at Caddyfile:3"},
		{"bad ttl", "llm_cache {\n ttl soon\n}", `ttl: invalid duration "soon"`, "at Caddyfile:3"},
		{"bad size", "llm_cache {\n max_size lots\n}", `max_size: invalid size "lots"`, "at Caddyfile:3"},
		{"zero size", "llm_cache {\n max_size 0\n}", "max_size: must be positive", "at Caddyfile:3"},
		{"unknown option", "llm_cache {\n\n colour blue\n}", `unrecognized llm_cache option "colour"`, "at Caddyfile:4"},
		{"repeated option", "llm_cache {\n ttl 1h\n ttl 2h\n}", "ttl: already specified", "at Caddyfile:4"},
		{"repeated model", "llm_cache {\n ttl_model a 1h\n ttl_model a 2h\n}", "ttl_model a: already specified", "at Caddyfile:4"},
		{"ttl_model arity", "llm_cache {\n ttl_model a\n}", "ttl_model: want <model> <duration>", "at Caddyfile:3"},
		{"missing value", "llm_cache {\n scope\n}", "scope: missing value", "at Caddyfile:3"},
		{"extra value", "llm_cache {\n scope a b\n}", `scope: unexpected argument "b"`, "at Caddyfile:3"},
		{"unknown storage", "llm_cache {\n storage floppy\n}", "getting module named 'http.llm_cache.storage.floppy'", "at Caddyfile:3"},
		{"bad coalesce", "llm_cache {\n coalesce maybe\n}", `coalesce: want on or off, got "maybe"`, "at Caddyfile:3"},
		{"coalesce arity", "llm_cache {\n coalesce\n}", "coalesce: missing value", "at Caddyfile:3"},
		{"repeated coalesce", "llm_cache {\n coalesce on\n coalesce off\n}", "coalesce: already specified", "at Caddyfile:4"},
		{"local without redis", "llm_cache {\n local 64MiB\n}", "local: a tier in front of Redis storage", "at Caddyfile:3"},
		{"local on memory", "llm_cache {\n storage memory\n\n local 64MiB\n}", "local: a tier in front of Redis storage", "at Caddyfile:5"},
		{"small size", "llm_cache {\n max_size 8MiB\n}", "max_size: must be at least 32MiB, got 8MiB", "at Caddyfile:3"},
		{"small local", "llm_cache {\n storage redis redis://127.0.0.1:6379\n local 16MiB\n}", "local: must be at least 32MiB, got 16MiB", "at Caddyfile:4"},
		{"zero local", "llm_cache {\n storage redis redis://127.0.0.1:6379\n local 0\n}", "local: must be positive", "at Caddyfile:4"},
		{"repeated local", "llm_cache {\n local 32MiB\n local 64MiB\n}", "local: already specified", "at Caddyfile:4"},
		{"directive args", "llm_cache now", "wrong argument count", "at Caddyfile:2"},
	})
}
