package llmgate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
)

// inFlightUpstream is the fake upstream, counting the requests in flight
// and the most there ever were.
type inFlightUpstream struct {
	fake     *fakeai.Server
	srv      *httptest.Server
	cur, top atomic.Int64
}

func startInFlight(t *testing.T) *inFlightUpstream {
	u := &inFlightUpstream{fake: fakeai.Start(t)}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := u.cur.Add(1)
		defer u.cur.Add(-1)
		for top := u.top.Load(); n > top && !u.top.CompareAndSwap(top, n); top = u.top.Load() {
		}
		u.fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// TestRedisConcurrencyAcrossInstances: with Redis storage, `concurrency
// 2` holds across three instances: twelve slow streams at once, never
// more than two at the upstream, all answered in turn. The slots of an
// instance that dies free themselves within seconds.
func TestRedisConcurrencyAcrossInstances(t *testing.T) {
	rs := testredis.Start(t)
	up := startInFlight(t)
	zone := relName(t, "shared_slots")
	body := fmt.Sprintf("\tllm_ratelimit {\n\t\tzone %s {\n\t\t\tkey static\n\t\t\tconcurrency 2\n\t\t\tmax_wait 30s\n\t\t}\n\t\tstorage redis %s\n\t}\n\treverse_proxy %s", zone, rs.URL(), up.srv.URL)
	config := func(site string) string { return fmt.Sprintf("%s {\n%s\n}\n", site, body) }
	sites := []string{testcaddy.Site(t), testcaddy.Site(t), testcaddy.Site(t)}
	testcaddy.Load(t, testcaddy.Global("")+config(sites[0]))
	testcaddy.Process(t, processGlobal+config(sites[1]), sites[1])
	third := testcaddy.Process(t, processGlobal+config(sites[2]), sites[2])

	chat := func(prompt string) string {
		return `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	}
	stream := func(site, prompt string, header ...string) (int, string) {
		resp, b, _ := send(t, site+"/v1/chat/completions", chat(prompt), header...)
		return resp.StatusCode, b
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 12 {
		wg.Go(func() {
			if s, b := stream(sites[i%3], fmt.Sprint("slow ", i), "x-fake-chunks", "4", "x-fake-delay", "60ms"); s != 200 || !strings.Contains(b, "[DONE]") {
				failed.Add(1)
				t.Errorf("stream %d: %d %q", i, s, b)
			}
		})
	}
	wg.Wait()
	if top := up.top.Load(); top != 2 {
		t.Errorf("at most %d requests in flight at the upstream, want 2 (the cap, reached)", top)
	}

	// Two endless streams through the third instance hold both slots;
	// the instance dies with them.
	for i := range 2 {
		// Each ends with the instance, before its answer starts or after:
		// no failure of its own.
		url := sites[2] + "/v1/chat/completions"
		req, err := harness.NewPost(context.Background(), url, chat(fmt.Sprint("held ", i)),
			siteKey(url, []string{"x-fake-chunks", "1000", "x-fake-delay", "100ms"})...)
		if err != nil {
			t.Fatal(err)
		}
		go harness.Send(req, nil)
	}
	harness.Eventually(t, "both slots held by the third instance", func() bool { return up.cur.Load() == 2 })
	third.Kill()
	start := time.Now()
	harness.Eventually(t, "a slot free again", func() bool {
		s, _ := stream(sites[0], "after the crash", "x-fake-chunks", "1")
		return s == 200
	})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the dead instance's slots freed after %s, want within 5 s", took)
	}
}
