package llmgate_test

import (
	"fmt"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestCacheStoreDownClaimsNothing: with its Redis store gone, a miss is
// answered without any claim of being stored, and is counted as a miss,
// not as stored: the header, the metric and {http.llm.cache} agree with
// what happened.
func TestCacheStoreDownClaimsNothing(t *testing.T) {
	site, up := cacheSite(t, fmt.Sprintf("storage redis redis://%s/0?dial_timeout=100ms", testcaddy.DeadAddr(t)))
	series := func(result string) float64 {
		return testcaddy.Metrics(t)[`llmgate_cache_requests_total{result="`+result+`"}`]
	}
	stored, missed := series("stored"), series("miss")
	body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"store down %s"}]}`, site)
	for i := range 2 {
		resp, got := post(t, site+"/v1/chat/completions", body)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
			t.Fatalf("request %d: %d, Cache-Status %q: %s", i, resp.StatusCode, resp.Header.Get("Cache-Status"), got)
		}
	}
	if up.Calls() != 2 {
		t.Errorf("upstream calls %d, want 2", up.Calls())
	}
	if d := series("stored") - stored; d != 0 {
		t.Errorf("stored count rose by %v with the store down", d)
	}
	if d := series("miss") - missed; d != 2 {
		t.Errorf("miss count rose by %v, want 2", d)
	}
}
