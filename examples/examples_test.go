// Package examples_test adapts every example Caddyfile, so none rots.
package examples_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/testcaddy"
)

func TestExamplesAdapt(t *testing.T) {
	t.Setenv("DEMO_PORT", "8080")
	t.Setenv("DEMO_UPSTREAM", "127.0.0.1:9000")
	t.Setenv("DEMO_LOG", filepath.Join(t.TempDir(), "access.log"))
	files, err := filepath.Glob("*/Caddyfile")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example Caddyfiles found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Dir(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := testcaddy.Adapt(string(b)); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		})
	}
}
