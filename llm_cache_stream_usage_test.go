package llmgate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// TestCacheKeepsAskedUsageApart: a stream a token zone asked for its
// usage is another request than the one the client sent: its answer,
// usage chunk and all, is never served to a request the zone did not
// apply to, whose client did not ask for the usage either.
func TestCacheKeepsAskedUsageApart(t *testing.T) {
	site, _ := proxySite(t, limitDirective(fmt.Sprintf("zone metered_%d {\n match header X-Metered 1\n tokens 1000000/m\n }", harness.FreePort(t)))+"\n\tllm_cache")
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"asked apart"}]}`
	if _, got := post(t, site+"/v1/chat/completions", body, "X-Metered", "1"); strings.Contains(got, `"choices":[],`) {
		t.Fatalf("the metered client got the usage chunk:\n%s", got)
	}
	resp, got := post(t, site+"/v1/chat/completions", body)
	if resp.StatusCode != 200 || strings.Contains(got, `"choices":[],`) {
		t.Errorf("a client that asked no usage got the usage chunk (Cache-Status %q):\n%s", resp.Header.Get("Cache-Status"), got)
	}
}
