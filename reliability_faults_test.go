package llmgate_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestReliabilityUpstreamFaultsNotStored puts llm_ratelimit and llm_cache
// in front of an upstream that fails in every way it can. Each failure
// reaches the client as the upstream (or Caddy) gave it, nothing is
// stored (the same request reaches the upstream again), identical
// requests in flight together all get an answer (none hangs on a failed
// coalesced call), and the request that follows the faults is served and
// stored normally.
func TestReliabilityUpstreamFaultsNotStored(t *testing.T) {
	up := fakeai.Start(t)
	// The header timeout is the slow site's alone: on a busy machine the
	// fake can take longer than it to answer the other faults.
	site, slow, dead := testcaddy.Site(t), testcaddy.Site(t), testcaddy.Site(t)
	const maxSize = 64<<20 + 101
	zone := relName(t, "faults")
	block := func(upstream, transport string) string {
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
			%s
		}
	}
}
`, zone, maxSize, upstream, transport)
	}
	testcaddy.Load(t, testcaddy.Global("")+
		site+" "+block(up.URL(), "")+
		slow+" "+block(up.URL(), "response_header_timeout 200ms")+
		dead+" "+block(testcaddy.DeadAddr(t), ""))
	cred := "Bearer sk-test-faults-" + site
	prompt := func(name string, stream bool) string {
		return fmt.Sprintf(`{"model":"gpt-4o-mini","stream":%v,"messages":[{"role":"user","content":"fault %s at %s"}]}`, stream, name, site)
	}
	// A request that must reach the upstream carries a tag of its own,
	// and the upstream's record of that tag is what counts. Its count of
	// all calls would not do: Caddy's 504 can leave before the upstream
	// has even read the timed-out request (whose call then lands in a
	// later count), and the concurrent requests may make one call or
	// several, some of them late in the same way.
	const tagHeader = "X-Test-Call"
	tagged := func(tag string) int {
		n := 0
		for _, r := range up.Requests() {
			if r.Header.Get(tagHeader) == tag {
				n++
			}
		}
		return n
	}
	stored, _ := relStore(t, maxSize) // by earlier runs of the test (-count)

	for _, tc := range []struct {
		name   string
		site   string // "": site
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
		{name: "timeout", site: slow, header: []string{"x-fake-delay", "3s"}, status: 504},
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
			// alone sends the request by itself; it must reach the
			// upstream, once: a stored fault would answer it instead.
			alone := func(what string) {
				t.Helper()
				tag := tc.name + ": " + what
				check(relDo(target+"/v1/chat/completions", body, slices.Concat(header, []string{tagHeader, tag})...))
				if target == dead {
					return
				}
				harness.Eventually(t, what+" to reach the upstream (a stored fault answers it instead)", func() bool { return tagged(tag) > 0 })
				if n := tagged(tag); n != 1 {
					t.Fatalf("%s reached the upstream %d times, want once", what, n)
				}
			}
			// One at a time: each reaches the upstream.
			alone("request 1")
			alone("request 2")
			// Five identical ones together: they may share the failed
			// call, or retry it on their own, but each gets an answer.
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() { check(relDo(target+"/v1/chat/completions", body, header...)) })
			}
			wg.Wait()
			alone("the request after the concurrent ones")
			if target == dead {
				return
			}
			// Without the fault the same request is served and stored.
			clean := relDo(site+"/v1/chat/completions", body, "Authorization", cred)
			if clean.err != nil || clean.status != 200 || clean.header.Get("Cache-Status") != "llmgate; fwd=miss" {
				t.Fatalf("after the faults: %d %v Cache-Status %q", clean.status, clean.err, clean.header.Get("Cache-Status"))
			}
		})
	}
	if entries, _ := relStore(t, maxSize); entries-stored != 6 {
		t.Errorf("store holds %d new entries, want 6 (the clean answers only)", entries-stored)
	}
}
