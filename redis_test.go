package llmgate_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/redis/go-redis/v9"
)

// processGlobal is the global options block of a second Caddy instance.
const processGlobal = "{\n\tadmin off\n\tpersist_config off\n\tauto_https off\n\tlog {\n\t\tlevel ERROR\n\t}\n}\n"

// twoInstances runs the same site body on the in-process Caddy and on a
// second Caddy process, both in front of up.
func twoInstances(t *testing.T, body string, up *fakeai.Server) (site1, site2 string) {
	t.Helper()
	site1, site2 = testcaddy.Site(t), testcaddy.Site(t)
	config := func(site string) string {
		return fmt.Sprintf("%s {\n%s\n\treverse_proxy %s\n}\n", site, body, up.URL())
	}
	testcaddy.Load(t, testcaddy.Global("")+config(site1))
	testcaddy.Process(t, processGlobal+config(site2), site2)
	return site1, site2
}

func TestRedisSharedByTwoInstances(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	site1, site2 := twoInstances(t, fmt.Sprintf(`
	llm_ratelimit {
		zone per_key {
			requests 6/m
		}
		storage redis %s
	}
	llm_cache {
		storage redis %s
	}`, rs.URL(), rs.URL()), up)

	// One key, six requests a minute, whichever instance they reach.
	statuses := make([]int, 0, 10)
	for i := range 10 {
		site := []string{site1, site2}[i%2]
		resp, _ := post(t, site+"/v1/chat/completions", fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"n%d"}]}`, i), "Authorization", "Bearer sk-shared")
		statuses = append(statuses, resp.StatusCode)
	}
	if got := fmt.Sprint(statuses); got != "[200 200 200 200 200 200 429 429 429 429]" {
		t.Fatalf("statuses across two instances: %s", got)
	}

	assertCacheShared(t, site1, site2, up)
	assertKeysHashed(t, testredis.Client(t, rs).Universal, "sk-shared", "sk-cache")
}

// assertCacheShared: an answer stored through one instance is a hit on
// the other, JSON and stream alike. The instances answer to one name, as
// behind a load balancer: the host the client asked for is part of the
// cache key.
func assertCacheShared(t *testing.T, site1, site2 string, up *fakeai.Server) {
	t.Helper()
	lb := strings.TrimPrefix(site1, "http://")
	resp, _ := post(t, site1+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-cache")
	if got := resp.Header.Get("Cache-Status"); got != "llmgate; fwd=miss" {
		t.Fatalf("instance 1: Cache-Status %q", got)
	}
	calls := up.Calls()
	resp, body := post(t, site2+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-cache", "Host", lb)
	if got := resp.Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit") || up.Calls() != calls {
		t.Fatalf("instance 2: Cache-Status %q, upstream calls %d → %d: %s", got, calls, up.Calls(), body)
	}

	// A stream too: the same events, replayed by the other instance.
	stream := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"shared stream"}]}`
	resp, first := post(t, site2+"/v1/chat/completions", stream, "Authorization", "Bearer sk-cache", "Host", lb)
	if got := resp.Header.Get("Cache-Status"); got != "llmgate; fwd=miss" || !strings.HasSuffix(first, "data: [DONE]\n\n") {
		t.Fatalf("stream through instance 2: Cache-Status %q: %s", got, first)
	}
	calls = up.Calls()
	resp, again := post(t, site1+"/v1/chat/completions", stream, "Authorization", "Bearer sk-cache")
	if got := resp.Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit") || again != first || up.Calls() != calls {
		t.Fatalf("stream through instance 1: Cache-Status %q, same events %v, upstream calls %d → %d", got, again == first, calls, up.Calls())
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("replayed stream Content-Type %q", ct)
	}
}

// assertKeysHashed: nothing in Redis (every primary of a cluster) names a
// credential: every key is llmgate's and hashed, and no key or value
// holds one of secrets.
func assertKeysHashed(t *testing.T, rdb redis.UniversalClient, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	keys := testredis.Keys(t, rdb, "*")
	if len(keys) == 0 {
		t.Fatal("no key in Redis")
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "llmgate:rl:") && !strings.HasPrefix(k, "llmgate:cache:") {
			t.Errorf("redis key %q is not llmgate's", k)
		}
		var value string
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			value = rdb.Get(ctx, k).Val()
		case "hash":
			value = fmt.Sprint(rdb.HGetAll(ctx, k).Val())
		case "zset":
			value = fmt.Sprint(rdb.ZRangeWithScores(ctx, k, 0, -1).Val())
		case "none": // expired meanwhile
		default:
			t.Errorf("redis key %q of unexpected type %s", k, typ)
		}
		for _, secret := range secrets {
			if strings.Contains(k, secret) || strings.Contains(value, secret) {
				t.Errorf("redis key %q (or its value) holds the credential %q", k, secret)
			}
		}
	}
}

func TestRedisExactAcrossInstances(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	const rate, burst = 20, 5
	site1, site2 := twoInstances(t, fmt.Sprintf(`
	llm_ratelimit {
		zone exact {
			key static
			requests %d/s
			burst %d
		}
		storage redis %s
	}`, rate, burst, rs.URL()), up)
	// The readiness checks took a token or two; let the bucket fill.
	time.Sleep(time.Second)

	var admitted, refused atomic.Int64
	stop := time.Now().Add(3 * time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 64 {
		site := []string{site1, site2}[i%2]
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodPost, site+"/v1/embeddings", strings.NewReader(`{"model":"e","input":"x"}`))
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					admitted.Add(1)
				case 429:
					refused.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// The lateness credit, at most half an interval, may add one.
	bound := int64(rate*elapsed.Seconds()) + burst + 1
	t.Logf("admitted %d, refused %d in %s (bound %d)", admitted.Load(), refused.Load(), elapsed, bound)
	if admitted.Load() > bound {
		t.Fatalf("admitted %d > rate × time + burst + 1 = %d", admitted.Load(), bound)
	}
	if refused.Load() == 0 {
		t.Fatal("nothing refused: the limit did not bite")
	}
}

func TestRedisOutage(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	open, closed := testcaddy.Site(t), testcaddy.Site(t)
	site := func(addr, mode string) string {
		return fmt.Sprintf(`%s {
	llm_ratelimit {
		zone outage_%s {
			requests 2/m
		}
		storage redis %s
		on_storage_error %s
	}
	llm_cache {
		storage redis %s
	}
	reverse_proxy %s
}
`, addr, mode, rs.URL(), mode, rs.URL(), up.URL())
	}
	testcaddy.Load(t, testcaddy.Global("")+site(open, "open")+site(closed, "closed"))
	quick := &http.Client{Timeout: time.Second}
	send := func(site, prompt string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"`+prompt+`"}]}`))
		req.Header.Set("Authorization", "Bearer sk-outage-"+strings.Fields(prompt)[0])
		resp, err := quick.Do(req)
		if err != nil {
			t.Fatalf("no answer within 1s: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Cache-Status")
	}
	for _, outage := range []struct {
		name       string
		stop, back func()
	}{
		{"stopped", rs.Stop, rs.Restart},
		{"frozen", rs.Freeze, rs.Thaw},
	} {
		t.Run(outage.name, func(t *testing.T) {
			outage.stop()
			for i := range 3 {
				if s, _ := send(open, fmt.Sprint(outage.name, " ", i)); s != 200 {
					t.Errorf("open, Redis %s: %d, want 200", outage.name, s)
				}
				if s, _ := send(closed, fmt.Sprint(outage.name, " ", i)); s != http.StatusServiceUnavailable {
					t.Errorf("closed, Redis %s: %d, want 503", outage.name, s)
				}
			}
			outage.back()
			// Back without a reload: the limit holds again, and the cache stores.
			harness.Eventually(t, "limits through Redis again", func() bool {
				s, _ := send(closed, outage.name+" back")
				return s == 200
			})
			statuses := []int{}
			for range 3 {
				s, _ := send(closed, outage.name+" again")
				statuses = append(statuses, s)
			}
			if statuses[len(statuses)-1] != 429 {
				t.Errorf("after Redis came back: %v, want the limit of 2/m to refuse", statuses)
			}
			if _, cs := send(open, outage.name+"-cached"); cs != "llmgate; fwd=miss" {
				t.Errorf("cache after Redis came back: %q", cs)
			}
			if _, cs := send(open, outage.name+"-cached"); !strings.HasPrefix(cs, "llmgate; hit") {
				t.Errorf("cache after Redis came back: %q, want a hit", cs)
			}
		})
	}
}

// TestRedisTokensAcrossInstances: a token limit read from local memory
// would let each instance spend the whole budget; through Redis they
// share it.
func TestRedisTokensAcrossInstances(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	site1, site2 := twoInstances(t, fmt.Sprintf(`
	llm_ratelimit {
		zone tokens_shared {
			tokens 300/m
		}
		storage redis %s
	}`, rs.URL()), up)
	var statuses []int
	for i, site := range []string{site1, site2, site1} {
		s, _, _ := ask(t, site, "/v1/chat/completions", fmt.Sprint("prompt ", i), false, "200,7")
		statuses = append(statuses, s)
	}
	if fmt.Sprint(statuses) != "[200 200 429]" {
		t.Fatalf("207-token answers against 300/m shared by two instances: %v, want [200 200 429]", statuses)
	}
}

// TestRedisOutageLogsOncePerSecond: with Redis down every request fails
// its lookups and stores; each handler says so once a second per message,
// not once a request.
func TestRedisOutageLogsOncePerSecond(t *testing.T) {
	rs := testredis.Start(t)
	rs.Stop()
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "warn.log")
	global := fmt.Sprintf("log llm {\n\t\toutput file %s\n\t\tlevel WARN\n\t\tinclude http.handlers.llm_ratelimit http.handlers.llm_cache\n\t}", logFile)
	testcaddy.Load(t, testcaddy.Global(global)+fmt.Sprintf(`%s {
	llm_ratelimit {
		zone %s {
			requests 1000/m
		}
		storage redis %s
	}
	llm_cache {
		storage redis %s
	}
	reverse_proxy %s
}
`, site, relName(t, "logs"), rs.URL(), rs.URL(), up.URL()))
	const n = 50
	start := time.Now()
	for i := range n {
		resp, body := post(t, site+"/v1/chat/completions", fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"outage %d"}]}`, i))
		if resp.StatusCode != 200 {
			t.Fatalf("request %d with Redis down: %d %s", i, resp.StatusCode, body)
		}
	}
	// The sampler lets one line of a message through per second from its
	// first: at most one more than the seconds the requests took.
	bound := int(time.Since(start)/time.Second) + 1
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"rate limit store failed", "cache lookup failed", "cache store failed"} {
		if got := strings.Count(string(b), msg); got == 0 || got > bound {
			t.Errorf("%q logged %d times for %d requests in %d s, want 1 to %d", msg, got, n, bound-1, bound)
		}
	}
}

// TestRedisFrozenOneBudgetPerRequest: llm_ratelimit and llm_cache on a
// frozen Redis share one command_timeout per request. Each handler alone
// would wait its own (the limiter's charge, the cache's lookup: twice the
// budget before the answer); together they wait one, then the request goes
// on as on_storage_error open says.
func TestRedisFrozenOneBudgetPerRequest(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	// A budget long enough that scheduling delays on a loaded machine are
	// small beside it; the read timeout no shorter, so that only the
	// budget ends a command.
	const budget = 2 * time.Second
	url := rs.URL() + "?command_timeout=2s&read_timeout=2s&write_timeout=2s&dial_timeout=2s"
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	llm_ratelimit {
		zone %s {
			requests 1000/m
		}
		storage redis %s
		on_storage_error open
	}
	llm_cache {
		storage redis %s
	}
	reverse_proxy %s
}
`, site, relName(t, "budget"), url, url, up.URL()))
	ask := func(prompt string) (*http.Response, time.Duration) {
		start := time.Now()
		resp, body := post(t, site+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"`+prompt+`"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", prompt, resp.StatusCode, body)
		}
		return resp, time.Since(start)
	}
	// Both handlers hold connections to the server before it freezes.
	if resp, _ := ask("warm " + site); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Fatalf("with Redis up: Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	rs.Freeze()
	defer rs.Thaw()
	for i := range 2 {
		resp, took := ask(fmt.Sprintf("frozen %d %s", i, site))
		t.Logf("request %d on a frozen Redis: %s, Cache-Status %q", i, took, resp.Header.Get("Cache-Status"))
		// Not a performance bound: one budget per handler takes at least
		// 2 × budget; one per request ends within budget and scheduling.
		if took >= budget+budget/2 {
			t.Errorf("request %d took %s on a frozen Redis: more than one budget of %s (+50%%) spent on Redis", i, took, budget)
		}
	}
}
