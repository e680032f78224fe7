package llmgate_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/openai/openai-go/v3/option"
)

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

func TestRateLimitRequestsPerKey(t *testing.T) {
	// Per hour: the bucket does not refill while the test runs.
	site, up := limitSite(t, "zone per_key { \n requests 3/h \n }")
	for i := range 3 {
		resp, body := post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-alice-"+site)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("X-Ratelimit-Remaining-Requests"), fmt.Sprint(2-i); got != want {
			t.Errorf("request %d: remaining %q, want %q", i+1, got, want)
		}
		if got := resp.Header.Get("X-Ratelimit-Limit-Requests"); got != "3" {
			t.Errorf("limit header %q, want 3 (the upstream's must be replaced)", got)
		}
	}
	resp, body := post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-alice-"+site)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: %d %s", resp.StatusCode, body)
	}
	e := parseOpenAIError(t, resp, body)
	if e.Type != "requests" || e.Code != "rate_limit_exceeded" || !strings.Contains(e.Message, "zone per_key: 3 requests per 1h0m0s") {
		t.Errorf("refusal body %s", body)
	}
	ra, ms := resp.Header.Get("Retry-After"), resp.Header.Get("Retry-After-Ms")
	if ra == "" || ra == "0" || ms == "" {
		t.Errorf("Retry-After %q, retry-after-ms %q", ra, ms)
	}
	if got := resp.Header.Get("X-Ratelimit-Remaining-Requests"); got != "0" {
		t.Errorf("refusal remaining %q, want 0", got)
	}
	if up.Calls() != 3 {
		t.Errorf("upstream calls %d, want 3: a refusal must not reach it", up.Calls())
	}
	// Another key has its own bucket.
	resp, body = post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-bob-"+site)
	if resp.StatusCode != 200 {
		t.Fatalf("other key: %d %s", resp.StatusCode, body)
	}
}

func TestRateLimitLeakyBucketSpreadsABurst(t *testing.T) {
	site, _ := limitSite(t, fmt.Sprintf("zone leaky_%d { \n key static \n requests 10/s \n burst 20 \n algorithm leaky_bucket \n }", harness.FreePort(t)))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok, start := 0, time.Now()
	var spread time.Duration
	for range 20 {
		wg.Go(func() {
			resp, _ := post(t, site+"/v1/chat/completions", chatBody)
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
				return
			}
			ok++
			spread = max(spread, time.Since(start))
		})
	}
	wg.Wait()
	// However slowly they arrive, 20 never overflow a bucket of 20.
	if ok != 20 {
		t.Fatalf("20 within the bucket: %d ok", ok)
	}
	// They leave at 10/s: the last one waited at least 19 intervals
	// after the first, which left after the burst was sent.
	if spread < 1900*time.Millisecond {
		t.Errorf("20 requests at 10/s passed in %s, want ≥ 1.9s", spread)
	}
	t.Logf("20 requests spread over %s", spread)
}

func TestRateLimitLeakyBucketRefusesBeyondItsBucket(t *testing.T) {
	// One a minute: the bucket does not drain while the burst arrives,
	// however slowly the machine sends it. One request leaves at once,
	// five wait their turn (minutes), the other four are refused.
	site, _ := limitSite(t, fmt.Sprintf("zone overflow_%d { \n key static \n requests 1/m \n burst 5 \n algorithm leaky_bucket \n }", harness.FreePort(t)))
	ctx, leave := context.WithCancel(context.Background())
	defer leave()
	answers := make(chan relAnswer, 10)
	for range 10 {
		go func() { answers <- relDoCtx(ctx, site+"/v1/chat/completions", chatBody) }()
	}
	counts := map[int]int{}
	for range 5 {
		a := <-answers
		if a.err != nil {
			t.Fatalf("an answer failed: %v", a.err)
		}
		counts[a.status]++
	}
	if counts[200] != 1 || counts[http.StatusTooManyRequests] != 4 {
		t.Fatalf("first answers %v, want 1 × 200 and 4 × 429", counts)
	}
	// The five in the bucket are still waiting: their clients leave.
	leave()
	for range 5 {
		if a := <-answers; a.err == nil {
			t.Errorf("a request in the bucket was answered %d before its turn", a.status)
		}
	}
}

func TestRateLimitRefusingZoneLeavesTheOthersUncharged(t *testing.T) {
	// per_key (3/h, the tighter) is charged first; shared (4/h, for the
	// requests marked X-Shared) then refuses bob's second request, and
	// per_key must give his charge back. Rates per hour: no bucket refills
	// while the test runs, however slow the machine.
	name := "shared_" + strings.NewReplacer(":", "_", "/", "_", ".", "_").Replace(site0(t))
	site, _ := limitSite(t, "zone per_key { \n requests 3/h \n }\n zone "+name+" { \n key static \n match header X-Shared yes \n requests 4/h \n }\n headers ietf")
	for i := range 3 {
		if resp, body := post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-alice-"+site, "X-Shared", "yes"); resp.StatusCode != 200 {
			t.Fatalf("alice %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-bob-"+site, "X-Shared", "yes")
	if resp.StatusCode != 200 {
		t.Fatalf("bob 1: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Ratelimit"); !strings.Contains(got, `"per_key";r=2`) {
		t.Fatalf("bob 1 RateLimit %q", got)
	}
	resp, _ = post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-bob-"+site, "X-Shared", "yes")
	if resp.StatusCode != 429 {
		t.Fatalf("bob 2: %d, want 429 from the shared zone", resp.StatusCode)
	}
	if got := resp.Header.Get("Ratelimit"); !strings.Contains(got, `"per_key";r=2`) || !strings.Contains(got, `"`+name+`";r=0`) {
		t.Fatalf("bob 2 RateLimit %q: per_key must still have 2 left", got)
	}
	// The header could be computed; the store must agree. Outside the
	// shared zone, bob's next request leaves 1, not 0.
	resp, _ = post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-bob-"+site)
	if got := resp.Header.Get("Ratelimit"); resp.StatusCode != 200 || strings.Contains(got, name) || !strings.Contains(got, `"per_key";r=1`) {
		t.Fatalf("bob 3 (per_key alone): %d, RateLimit %q, want r=1: the refused request's charge stayed in the store", resp.StatusCode, got)
	}
}

// reload loads site's new config (without the global block) and returns
// once the site answers from it. Caddy's reload returns when the old
// servers have begun to shut down, not when they stop accepting (see
// caddyhttp.App.Stop): a connection made at once may still be served by
// the old config, which, on a loaded machine, can hold the listener for a
// while. reload marks the new config with a header, X-Config-Generation,
// and probes, on connections of their own and with keys of their own (so
// no bucket the test watches is charged), until the mark comes back.
func reload(t *testing.T, site, config string) {
	t.Helper()
	generation := fmt.Sprint(time.Now().UnixNano())
	marked := strings.Replace(config, site+" {\n", site+" {\n\theader X-Config-Generation "+generation+"\n", 1)
	if marked == config {
		t.Fatalf("reload: no site block %q in\n%s", site, config)
	}
	testcaddy.Load(t, testcaddy.Global("")+marked)
	harness.Client.CloseIdleConnections() // the old servers closed them
	for i := 0; ; i++ {
		req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(chatBody))
		req.Header.Set("Authorization", fmt.Sprintf("Bearer sk-probe-%d-%s", i, site))
		req.Close = true // a new connection each time: the old server's keeps it
		resp, err := harness.Client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.Header.Get("X-Config-Generation") == generation {
				return
			}
		}
		if i == 500 {
			t.Fatalf("reload: the site never answered from its new config (last error %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// site0 is a fresh, unused site address, for names unique to a test.
func site0(t *testing.T) string { return testcaddy.Site(t) }

func TestRateLimitConcurrencyPerKey(t *testing.T) {
	site, up := limitSite(t, "zone conc { \n concurrency 2 \n }")
	slow := func(ctx context.Context, key string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, site+"/v1/chat/completions", strings.NewReader(chatBody))
		req.Header.Set("Authorization", "Bearer "+key)
		// Held until the client leaves: however slow the machine, they
		// are in flight while the others are decided.
		req.Header.Set("x-fake-delay", "10m")
		resp, err := harness.Client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if s, err := slow(ctx, "sk-alice"); err == nil {
				t.Errorf("slow request answered %d; it should still be waiting on the upstream", s)
			}
		})
	}
	// Both slow requests are at the upstream, holding alice's two slots.
	for deadline := time.Now().Add(5 * time.Second); up.Calls() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	// A third waits for none (no max_wait) and is refused.
	third, body := post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-alice")
	if third.StatusCode != 429 || !strings.Contains(body, `"type":"concurrency"`) || !strings.Contains(body, "2 concurrent requests") {
		t.Fatalf("third concurrent request: %d %s, want 429 of type concurrency", third.StatusCode, body)
	}
	if resp, _ := post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-bob"); resp.StatusCode != 200 {
		t.Fatalf("another key: %d", resp.StatusCode)
	}
	// The clients leave: their slots free without waiting for the upstream.
	cancel()
	wg.Wait()
	var resp *http.Response
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, _ = post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-alice"); resp.StatusCode == 200 {
			break
		}
	}
	if resp.StatusCode != 200 {
		t.Fatalf("after the clients left: %d, want 200", resp.StatusCode)
	}
}

func TestRateLimitKeepsCountsAcrossReload(t *testing.T) {
	site, up := limitSite(t, "zone reload { \n requests 5/h \n }")
	send := func() int {
		resp, _ := post(t, site+"/v1/chat/completions", chatBody)
		return resp.StatusCode
	}
	for range 3 {
		if s := send(); s != 200 {
			t.Fatalf("before reload: %d", s)
		}
	}
	// A different config (a header added) with the same zone.
	reload(t, site, strings.Replace(limitConfig(site, "zone reload { \n requests 5/h \n }", up), "\tllm_ratelimit", "\theader X-Reloaded yes\n\tllm_ratelimit", 1))
	for range 2 {
		if s := send(); s != 200 {
			t.Fatalf("after reload: %d", s)
		}
	}
	if s := send(); s != 429 {
		t.Fatalf("6th request across a reload: %d, want 429", s)
	}
}

func TestRateLimitOpenAIClientRetriesThrough(t *testing.T) {
	site, up := limitSite(t, "zone sdk { \n requests 5/s \n burst 1 \n }")
	var refused int
	var mu sync.Mutex
	count := option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		resp, err := next(r)
		if err == nil && resp.StatusCode == 429 {
			mu.Lock()
			refused++
			mu.Unlock()
		}
		return resp, err
	})
	c := sdk(site, "sk-test-sdk", count)
	for i := range 6 {
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini", fmt.Sprint("burst ", i))); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if up.Calls() != 6 {
		t.Errorf("upstream calls %d, want 6", up.Calls())
	}
	if refused == 0 {
		t.Error("no request was refused: the limit did not bite")
	}
	t.Logf("%d refusals retried by the SDK", refused)
}

// TestRateLimitLeakySlowBodyHoldsNoPlace: a request whose client sends its
// body slowly takes its place in a leaky bucket's line only once the body
// is in. Were the place taken on arrival, it would pass while the body
// trickles in, and the slow request would then leave together with the
// ones queued behind it, above the rate.
func TestRateLimitLeakySlowBodyHoldsNoPlace(t *testing.T) {
	site, up := limitSite(t, fmt.Sprintf("zone leaky_slow_%d { \n key static \n requests 1/30s \n burst 4 \n algorithm leaky_bucket \n max_wait 60s \n }", harness.FreePort(t)))
	// The slow client: headers, then half its body, then nothing.
	conn, err := net.Dial("tcp", strings.TrimPrefix(site, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer sk-slow\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n",
		strings.TrimPrefix(site, "http://"), len(chatBody))
	// Caddy asks for the body once a handler reads it.
	rd := bufio.NewReader(conn)
	if line, err := rd.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("waiting for 100 Continue: %q %v", line, err)
	}
	if _, err := rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, chatBody[:len(chatBody)/2]); err != nil {
		t.Fatal(err)
	}
	// A complete request now leaves at once: the slow one holds no place.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, site+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-fresh")
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatalf("a complete request behind a slow body: %v (it was queued behind a body not yet sent)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || up.Calls() != 1 {
		t.Fatalf("a complete request behind a slow body: %d, upstream calls %d", resp.StatusCode, up.Calls())
	}
}
