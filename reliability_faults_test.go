package llmgate_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/testcaddy"
)

// TestReliabilityUpstreamFaultsNotStored puts llm_ratelimit and llm_cache
// in front of an upstream that fails in every way it can. Each failure
// reaches the client as the upstream (or Caddy) gave it, nothing is
// stored (the same request reaches the upstream again), identical
// requests in flight together all get an answer (none hangs on a failed
// coalesced call), and the request that follows the faults is served and
// stored normally.
func TestReliabilityUpstreamFaultsNotStored(t *testing.T) {
	up := fakeai.New()
	t.Cleanup(up.Close)
	site, dead := testcaddy.Site(t), testcaddy.Site(t)
	deadUpstream := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	const maxSize = 64<<20 + 101
	zone := relName(t, "faults")
	block := func(upstream string) string {
		return fmt.Sprintf(`{
	llm_ratelimit {
		zone %s {
			requests 100000/h
			tokens 100000000/h
		}
	}
	llm_cache {
		max_size %d
	}
	reverse_proxy %s {
		transport http {
			response_header_timeout 200ms
		}
	}
}
`, zone, maxSize, upstream)
	}
	testcaddy.Load(t, testcaddy.Global("")+site+" "+block(up.URL())+dead+" "+block(deadUpstream))
	cred := "Bearer sk-test-faults-" + site
	prompt := func(name string, stream bool) string {
		return fmt.Sprintf(`{"model":"gpt-4o-mini","stream":%v,"messages":[{"role":"user","content":"fault %s at %s"}]}`, stream, name, site)
	}

	for _, tc := range []struct {
		name   string
		site   string
		stream bool
		header []string
		// direct: the fault's answer is the upstream's own, passed on
		// unchanged; otherwise Caddy answers with this status class or
		// the body breaks off.
		direct bool
		status int // 0: the answer may break off after its header
	}{
		{name: "500", header: []string{"x-fake-status", "500"}, direct: true, status: 500},
		{name: "502", header: []string{"x-fake-status", "502"}, direct: true, status: 502},
		{name: "503 stream", stream: true, header: []string{"x-fake-status", "503"}, direct: true, status: 503},
		{name: "timeout", header: []string{"x-fake-delay", "3s"}, status: 504},
		{name: "upstream down", site: dead, status: 502},
		{name: "closed mid-JSON", header: []string{"x-fake-die-after", "0"}},
		{name: "closed mid-stream", stream: true, header: []string{"x-fake-die-after", "3", "x-fake-chunks", "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := site
			if tc.site != "" {
				target = tc.site
			}
			body := prompt(tc.name, tc.stream)
			header := append([]string{"Authorization", cred}, tc.header...)
			var want relAnswer
			if tc.direct {
				want = relDo(up.URL()+"/v1/chat/completions", body, header...)
			}
			check := func(got relAnswer) {
				t.Helper()
				if cs := got.header.Get("Cache-Status"); strings.Contains(cs, "hit") {
					t.Errorf("a fault was answered from the cache: Cache-Status %q", cs)
				}
				switch {
				case tc.direct:
					if got.err != nil || got.status != want.status || got.body != want.body {
						t.Errorf("got %d %q (%v), want the upstream's %d %q", got.status, got.body, got.err, want.status, want.body)
					}
				case tc.status != 0:
					if got.status != tc.status {
						t.Errorf("got %d %q (%v), want %d", got.status, got.body, got.err, tc.status)
					}
				default:
					// The upstream broke off: the client must not get a
					// whole-looking answer.
					if got.err == nil && got.status == 200 && (tc.stream && strings.Contains(got.body, "[DONE]") || !tc.stream) {
						t.Errorf("a cut answer reached the client as complete: %d %q", got.status, got.body)
					}
				}
			}
			// One at a time: each reaches the upstream.
			for i := range 2 {
				before := up.Calls()
				check(relDo(target+"/v1/chat/completions", body, header...))
				if tc.site == "" && up.Calls() != before+1 {
					t.Fatalf("request %d: upstream calls %d → %d: the fault was stored", i+1, before, up.Calls())
				}
			}
			// Five identical ones together: they may share the failed
			// call, or retry it on their own, but each gets an answer.
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() { check(relDo(target+"/v1/chat/completions", body, header...)) })
			}
			wg.Wait()
			before := up.Calls()
			check(relDo(target+"/v1/chat/completions", body, header...))
			if tc.site == "" && up.Calls() != before+1 {
				t.Fatal("after the concurrent faults, the request was answered from the cache")
			}
			if tc.site != "" {
				return
			}
			// Without the fault the same request is served and stored.
			clean := relDo(target+"/v1/chat/completions", body, "Authorization", cred)
			if clean.err != nil || clean.status != 200 || clean.header.Get("Cache-Status") != "llmgate; fwd=miss; stored" {
				t.Fatalf("after the faults: %d %v Cache-Status %q", clean.status, clean.err, clean.header.Get("Cache-Status"))
			}
		})
	}
	if entries, _ := relStore(t, maxSize); entries != 6 {
		t.Errorf("store holds %d entries, want 6 (the clean answers only)", entries)
	}
}
