package caddyfile_test

import (
	"regexp"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	_ "github.com/llmgate/caddy-llmgate/internal/harness/testcaddy" // registers the modules the grammar refers to
)

// lineRE finds the position an error names.
var lineRE = regexp.MustCompile(`Testfile:\d+`)

// FuzzGrammar feeds arbitrary tokens to each llmgate parser: none panics,
// and every error names the line.
func FuzzGrammar(f *testing.F) {
	for _, seed := range []string{
		"llm_cache",
		"llm_cache {\n ttl 1h\n ttl_model gpt-4* 10m\n max_size 32MiB\n scope shared\n}",
		"llm_cache {\n storage memory\n ignore_fields user\n paths /v1/embeddings\n}",
		"llm_ratelimit {\n zone z {\n key static\n requests 10/s\n burst 3\n }\n}",
		"llm_ratelimit {\n zone z {\n match llm_model gpt-4*\n requests 100/10s\n algorithm fixed_window\n }\n headers ietf\n}",
		"llm_ratelimit {\n zone z {\n match {\n path /v1/*\n }\n concurrency 2\n max_wait 1s\n algorithm leaky_bucket\n }\n on_storage_error closed\n}",
		"llm_redact {\n wrap console\n pattern \"hf_[a-z]{9}\"\n}",
		"llm_ratelimit {\n zone {\n}",
		"llm_cache {\n ttl 1d2h\n max_body -1\n}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		for _, parse := range []func(*caddyfile.Dispenser) error{
			func(d *caddyfile.Dispenser) error { _, _, err := llmcaddyfile.ParseCache(d); return err },
			func(d *caddyfile.Dispenser) error { _, _, err := llmcaddyfile.ParseRateLimit(d); return err },
			func(d *caddyfile.Dispenser) error { _, _, err := llmcaddyfile.ParseRedact(d, true); return err },
		} {
			tokens, err := caddyfile.Tokenize([]byte(input), "Testfile")
			if err != nil || len(tokens) == 0 {
				return
			}
			if err := parse(caddyfile.NewDispenser(tokens)); err != nil && !lineRE.MatchString(err.Error()) {
				t.Fatalf("error without a line: %v\ninput:\n%s", err, input)
			}
		}
	})
}
