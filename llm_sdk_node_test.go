package llmgate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/nodesdk"
)

// TestNodeAnthropicSDKReadsRefusals: the Anthropic SDK turns llmgate's
// refusal into its RateLimitError, its type and apiMessage parsed from
// the body (its message is the status and the body, as for Anthropic's
// own errors), and does not retry a wait it would not honour
// (x-should-retry: false).
func TestNodeAnthropicSDKReadsRefusals(t *testing.T) {
	site, up := limitSite(t, fmt.Sprintf("zone node_hourly_%d { \n requests 1/h \n algorithm fixed_window \n }", harness.FreePort(t)))
	results := nodesdk.Run(t, nodesdk.Job{SDK: "anthropic", BaseURL: site, APIKey: "sk-ant-api03-node-" + site, Calls: 2, Prompt: "refused"})
	var refusal *nodesdk.Result
	for i := range results {
		if !results[i].OK {
			refusal = &results[i]
		}
	}
	if refusal == nil || len(results) != 2 {
		t.Fatalf("results %+v: want one success and one refusal", results)
	}
	if refusal.Status != 429 || refusal.Name != "RateLimitError" || refusal.Type != "rate_limit_error" ||
		!strings.HasPrefix(refusal.APIMessage, "llmgate: zone node_hourly_") {
		t.Errorf("the SDK's error: %+v", refusal)
	}
	if n := up.CallsTo("/v1/messages"); n != 1 {
		t.Errorf("upstream calls %d, want 1: the refusal must not be retried", n)
	}
}

// TestNodeSDKBurstTakesTurns: N calls of each Node SDK at once against
// 2/s with a burst of 1, with the SDK's default retries, all get through.
func TestNodeSDKBurstTakesTurns(t *testing.T) {
	for _, tc := range []struct {
		sdk   string
		calls int
	}{{"openai", 6}, {"openai", 20}, {"anthropic", 6}} {
		t.Run(fmt.Sprint(tc.sdk, " ", tc.calls), func(t *testing.T) {
			site, up := limitSite(t, fmt.Sprintf("zone node_turns_%d { \n requests 2/s \n burst 1 \n }", harness.FreePort(t)))
			results := nodesdk.Run(t, nodesdk.Job{SDK: tc.sdk, BaseURL: site, APIKey: "sk-node-turns-" + site, Calls: tc.calls, Prompt: "turn"})
			for _, r := range results {
				if !r.OK {
					t.Errorf("a call failed: %+v", r)
				}
			}
			if up.Calls() != tc.calls {
				t.Errorf("upstream calls %d, want %d", up.Calls(), tc.calls)
			}
		})
	}
}
