package llmgate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestTokensStreamOptOutIsCharged: a chat completion stream whose
// stream_options leaves the usage out (include_usage false, {}, null) is
// asked for it all the same, so a token zone charges what it cost (a
// reasoning model's hidden tokens, an image's), and the client gets no
// usage chunk, as it asked; otherwise any caller pays by visible text.
func TestTokensStreamOptOutIsCharged(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "access.log")
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	log {
		output file %s
	}
	log_append tokens {http.llm.usage.total_tokens}
	llm_ratelimit {
		zone optout_%d {
			tokens 1000000/m
		}
	}
	reverse_proxy %s
}
`, site, logFile, harness.FreePort(t), up.URL()))
	lastTokens := func() string {
		b, _ := os.ReadFile(logFile)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var e struct {
			Tokens json.Number `json:"tokens"`
		}
		_ = json.Unmarshal([]byte(lines[len(lines)-1]), &e)
		return e.Tokens.String()
	}
	for _, options := range []string{`{"include_usage":false}`, `{}`, `null`, `{"include_obfuscation":false}`} {
		t.Run(options, func(t *testing.T) {
			body := `{"model":"o3","stream":true,"stream_options":` + options + `,"messages":[{"role":"user","content":"opt out"}]}`
			resp, got := post(t, site+"/v1/chat/completions", body, "x-fake-usage", "30,5000")
			if resp.StatusCode != 200 || strings.Contains(got, `"usage":{`) {
				t.Fatalf("%d, the client got a usage chunk:\n%s", resp.StatusCode, got)
			}
			if tokens := lastTokens(); tokens != "5030" {
				t.Errorf("charged %s tokens, want the 5030 the upstream spent", tokens)
			}
		})
	}
}
