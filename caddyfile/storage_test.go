package caddyfile_test

import "testing"

// TestAdaptRedisModes: the cluster and Sentinel backends of both handlers
// take go-redis's URL forms, checked at adapt time like a single server's.
func TestAdaptRedisModes(t *testing.T) {
	const (
		cluster  = "redis://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000"
		sentinel = "redis://10.0.0.1:26379/0?master_name=mymaster&addr=10.0.0.2:26379"
	)
	checkAdapt(t, handlers, []adaptCase{
		{
			name: "cluster",
			in:   "llm_ratelimit {\n zone z {\n requests 1/s\n }\n storage redis_cluster " + cluster + "\n}\nllm_cache {\n storage redis_cluster " + cluster + "\n}",
			want: `{"handler":"llm_ratelimit","storage":{"backend":"redis_cluster","url":"redis://10.0.0.1:7000?addr=10.0.0.2:7000\u0026addr=10.0.0.3:7000"},"zones":{"z":{"requests":"1/s"}}}
{"handler":"llm_cache","storage":{"backend":"redis_cluster","url":"redis://10.0.0.1:7000?addr=10.0.0.2:7000\u0026addr=10.0.0.3:7000"}}`,
		},
		{
			name: "sentinel",
			in:   "llm_ratelimit {\n zone z {\n requests 1/s\n }\n storage redis_sentinel " + sentinel + "\n}\nllm_cache {\n storage redis_sentinel {env.REDIS_SENTINEL_URL}\n}",
			want: `{"handler":"llm_ratelimit","storage":{"backend":"redis_sentinel","url":"redis://10.0.0.1:26379/0?master_name=mymaster\u0026addr=10.0.0.2:26379"},"zones":{"z":{"requests":"1/s"}}}
{"handler":"llm_cache","storage":{"backend":"redis_sentinel","url":"{env.REDIS_SENTINEL_URL}"}}`,
		},
	})
	checkAdaptErrors(t, handlers, []errorCase{
		{"cluster without url", "llm_cache {\n storage redis_cluster\n}", "redis_cluster: missing url, e.g. redis://10.0.0.1:7000?addr=", "at Caddyfile:3"},
		{"cluster over a unix socket", "llm_cache {\n storage redis_cluster unix:///run/redis.sock\n}", "redis_cluster: ", "at Caddyfile:3"},
		{"sentinel without master_name", "llm_ratelimit {\n storage redis_sentinel redis://:hunter2@10.0.0.1:26379/0\n}", "redis_sentinel: ", "at Caddyfile:3"},
		{"sentinel, extra argument", "llm_cache {\n storage redis_sentinel " + sentinel + " more\n}", `redis_sentinel: unexpected argument "more"`, "at Caddyfile:3"},
	})
}
