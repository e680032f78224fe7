package llmgate_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestReliabilityReloadUnderLoad reloads the config ten times while four
// clients send steadily. No request fails, the rate limit keeps counting
// (each client sees x-ratelimit-remaining-requests only go down, so no
// reload reset the bucket) and the cache keeps its entries (an answer
// stored before a reload is a hit after it; no hit reaches the upstream).
//
// A reload replaces Caddy's servers; the old one closes its idle
// keep-alive connections. A request the client writes on such a
// connection in that instant fails with EOF before the server read it:
// that is HTTP/1.1 keep-alive as Caddy (and net/http) does it, with or
// without llmgate, and net/http retries it only when the request says it
// may be replayed, and not in every case (a reset seen while writing the
// request, or on a connection the old server had only just accepted). LLM
// clients retry such errors themselves: the OpenAI SDKs resend a request
// that got no answer twice. So does this test's client. A request the old
// server did answer cannot hide behind a retry: the retry of a miss would
// be a hit, which the test refuses, and the upstream calls would outnumber
// the misses.
func TestReliabilityReloadUnderLoad(t *testing.T) {
	up := fakeai.Start(t)
	up.SetRecordLimit(0)
	site := testcaddy.Site(t)
	zone := relName(t, "reload")
	const maxSize = 64<<20 + 303
	config := func(gen int) string {
		return testcaddy.Global("") + fmt.Sprintf(`
%s {
	header X-Generation %d
	llm_ratelimit {
		zone %s {
			requests 1000000/720h
		}
	}
	llm_cache {
		max_size %d
	}
	reverse_proxy %s
}
`, site, gen, zone, maxSize, up.URL())
	}
	testcaddy.Load(t, config(0))
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	t.Cleanup(hc.CloseIdleConnections)
	cred := "Bearer sk-test-reload-" + site
	var seq atomic.Int64
	do := func(prompt string) (status int, h http.Header, body string, err error) {
		req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"`+prompt+`"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", cred)
		req.Header.Set("Idempotency-Key", strconv.FormatInt(seq.Add(1), 10))
		resp, err := hc.Do(req)
		for retry := 0; err != nil && retry < 2; retry++ {
			t.Logf("no answer, sent again: %v", err)
			req.Body, _ = req.GetBody()
			resp, err = hc.Do(req)
		}
		if err != nil {
			return 0, nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b), err
	}

	var stop atomic.Bool
	var sent, misses, hits atomic.Int64
	gens := make(chan string, 100000)
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			last := int64(-1)
			var answers []string
			for i := 0; !stop.Load(); i++ {
				// A new prompt (a miss, stored), then one stored earlier,
				// perhaps before a reload (a hit).
				prompts := []int{i, i / 2}
				for k, p := range prompts {
					status, h, body, err := do(fmt.Sprintf("client %d prompt %d at %s", c, p, site))
					sent.Add(1)
					if err != nil || status != 200 {
						t.Errorf("client %d request %d: %d %v %.200s", c, i, status, err, body)
						return
					}
					gens <- h.Get("X-Generation")
					remaining, err := strconv.ParseInt(h.Get("X-Ratelimit-Remaining-Requests"), 10, 64)
					if err != nil {
						t.Errorf("x-ratelimit-remaining-requests %q", h.Get("X-Ratelimit-Remaining-Requests"))
						return
					}
					if last >= 0 && remaining > last {
						t.Errorf("client %d: remaining went up from %d to %d: the bucket was reset", c, last, remaining)
					}
					last = remaining
					cs := h.Get("Cache-Status")
					switch {
					case k == 0 && cs == "llmgate; fwd=miss":
						misses.Add(1)
						answers = append(answers, body)
					case k == 1 && strings.HasPrefix(cs, "llmgate; hit"):
						hits.Add(1)
						if body != answers[p] {
							t.Errorf("client %d: the hit for prompt %d differs from the answer stored", c, p)
						}
					default:
						t.Errorf("client %d prompt %d (request %d of the pair): Cache-Status %q", c, p, k, cs)
						return
					}
				}
			}
		})
	}
	for gen := 1; gen <= 10; gen++ {
		time.Sleep(150 * time.Millisecond)
		testcaddy.Load(t, config(gen))
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(gens)
	seen := map[string]bool{}
	for g := range gens {
		seen[g] = true
	}
	if up.Calls() != int(misses.Load()) {
		t.Errorf("upstream calls %d, misses %d: a hit reached the upstream or a miss did not", up.Calls(), misses.Load())
	}
	if !seen["10"] || len(seen) < 6 {
		t.Errorf("answers came from generations %v: the load did not span the reloads", seen)
	}
	t.Logf("%d requests (%d misses, %d hits) across 10 reloads; generations answering: %d", sent.Load(), misses.Load(), hits.Load(), len(seen))
}
