package llmgate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// Two llm_ratelimit handlers in one route, a cache behind them: the
// access log's placeholders of a miss, a hit and a refusal.
func TestPlaceholdersOfTwoRateLimits(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "access.log")
	outer, inner := relName(t, "outer"), relName(t, "inner")
	site, _ := proxySite(t, fmt.Sprintf(`
	log {
		output file %s
	}
	log_append cache {http.llm.cache}
	log_append zone {http.llm.ratelimit.zone}
	log_append prompt {http.llm.usage.prompt_tokens}
	log_append total {http.llm.usage.total_tokens}
	log_append cost {http.llm.cost}
	route {
		llm_ratelimit {
			zone %s {
				key static
				tokens 1000000/m
			}
		}
		llm_ratelimit {
			%s
			zone %s {
				key static
				requests 3/m
				cost 10/d
			}
		}
		llm_cache
	}`, logFile, outer, costPrices, inner))
	chat := func(s string) string {
		return `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + s + `"}]}`
	}
	for _, s := range []string{"a", "a", "b", "c"} {
		post(t, site+"/v1/chat/completions", chat(s), "x-fake-usage", "10,50")
	}
	var lines []string
	harness.Eventually(t, "four access log lines", func() bool {
		b, _ := os.ReadFile(logFile)
		lines = lines[:0]
		for line := range strings.Lines(string(b)) {
			var e struct {
				Cache, Zone, Cost string
				Prompt, Total     any
			}
			if json.Unmarshal([]byte(line), &e) == nil {
				lines = append(lines, fmt.Sprintf("%s|%s|%v|%v|%s", e.Cache, e.Zone, e.Prompt, e.Total, e.Cost))
			}
		}
		return len(lines) == 4
	})
	want := []string{"miss||10|60|0.021", "hit||10|60|0.00", "miss||10|60|0.021", "|" + inner + "|<nil>|<nil>|"}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("access log placeholders:\n got %q\nwant %q", lines, want)
	}
}
