package llmgate_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// Many hits of one stored answer at once, through a token zone that reads
// (and for an asked-for stream usage, hides part of) every answer: each
// gets the same bytes, and the stored entry stays as it was.
func TestConcurrentHitsThroughATokenZone(t *testing.T) {
	site, _ := proxySite(t, limitDirective(fmt.Sprintf("zone hits_%d {\n tokens 100000000/m\n }", harness.FreePort(t)))+"\n\tllm_cache")
	for _, body := range []string{
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"many hits"}]}`,
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"many hits"}]}`,
	} {
		_, first := post(t, site+"/v1/chat/completions", body, "x-fake-usage", "10,50")
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					resp, got := post(t, site+"/v1/chat/completions", body)
					if !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") || got != first {
						t.Errorf("Cache-Status %q, body differs: %v", resp.Header.Get("Cache-Status"), got != first)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
