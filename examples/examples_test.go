// Package examples_test adapts and validates every example config, as
// `caddy adapt --validate` does, so none rots.
package examples_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

func TestExamplesValidate(t *testing.T) {
	t.Setenv("DEMO_PORT", "8080")
	t.Setenv("DEMO_UPSTREAM", "127.0.0.1:9000")
	t.Setenv("DEMO_LOG", filepath.Join(t.TempDir(), "access.log"))
	t.Setenv("REDIS_URL", "redis://127.0.0.1:6379/0") // connected lazily: validation needs no server
	// Gateway keys must be set for the config to load.
	t.Setenv("GATEWAY_KEY_TEAM_A", "gw-validate-a")
	t.Setenv("GATEWAY_KEY_TEAM_B", "gw-validate-b")
	t.Setenv("GATEWAY_KEY", "gw-validate-local")
	// Provider keys must be set too.
	for _, env := range []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_KEY_1", "OPENAI_KEY_2", "OPENAI_KEY_3"} {
		t.Setenv(env, "sk-validate-"+env)
	}
	caddyfiles, _ := filepath.Glob("*/Caddyfile")
	jsons, _ := filepath.Glob("json/*.json")
	if len(caddyfiles) < 4 || len(jsons) == 0 {
		t.Fatalf("example configs missing: %v %v", caddyfiles, jsons)
	}
	for _, f := range append(caddyfiles, jsons...) {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Ext(f) != ".json" {
				if b, err = testcaddy.Adapt(string(b)); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
			var cfg caddy.Config
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := caddy.Validate(&cfg); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		})
	}
}
