package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// loadExample runs the Caddyfile of the example in dir with the test
// harness's global options merged into its own, with pairs of strings replaced (old, new, …;
// each old must be in it, so an example that changes fails its test
// rather than passing untested) and its access log in a temporary
// directory.
func loadExample(t *testing.T, dir string, oldnew ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	example := string(b)
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(example, oldnew[i]) {
			t.Fatalf("%s no longer has %q: update the test", dir, oldnew[i])
		}
	}
	oldnew = append(oldnew, "/var/log/caddy/llm-access.log", filepath.Join(t.TempDir(), "access.log"))
	testcaddy.Load(t, testcaddy.Example(strings.NewReplacer(oldnew...).Replace(example)))
}
