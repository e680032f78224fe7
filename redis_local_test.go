package llmgate_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
)

// localTierSite is llm_cache on Redis with a local tier, on two instances
// (the second a process of its own), and a client that reaches either as
// one name behind a load balancer.
type localTierSite struct {
	t          *testing.T
	a, b, host string
	key        string
}

func startLocalTier(t *testing.T) localTierSite {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	a, b := twoInstances(t, fmt.Sprintf(`
	llm_cache {
		storage redis %s
		local 32MiB
		ttl_model short-lived 4s
	}`, rs.URL()), up)
	return localTierSite{t: t, a: a, b: b, host: strings.TrimPrefix(a, "http://"), key: "Bearer sk-local-" + strings.TrimPrefix(b, "http://")}
}

// ask sends a chat request for model to instance site and returns its
// Cache-Status.
func (s localTierSite) ask(site, model string) string {
	s.t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"local tier"}]}`, model)
	resp, _ := post(s.t, site+"/v1/chat/completions", body, "Authorization", s.key, "Host", s.host)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("status %d", resp.StatusCode)
	}
	return resp.Header.Get("Cache-Status")
}

func isLocalHit(status string) bool {
	return strings.HasPrefix(status, "llmgate; hit; ") && strings.HasSuffix(status, "; detail=local")
}

// warm has A store an answer of model and B keep a copy of it: B's first
// hit comes from Redis, the following ones from its memory. It returns
// when A's answer had arrived, after the entry was stored.
func (s localTierSite) warm(model string) (stored time.Time) {
	s.t.Helper()
	if got := s.ask(s.a, model); got != "llmgate; fwd=miss" {
		s.t.Fatalf("A stores %s: Cache-Status %q", model, got)
	}
	stored = time.Now()
	if got := s.ask(s.b, model); !strings.HasPrefix(got, "llmgate; hit; ") || isLocalHit(got) {
		s.t.Fatalf("B's first hit of %s: Cache-Status %q, want one from Redis", model, got)
	}
	// B may still be subscribing to purges, and keeps no copy until then.
	harness.Eventually(s.t, "a hit from B's local tier", func() bool { return isLocalHit(s.ask(s.b, model)) })
	for range 3 {
		if got := s.ask(s.b, model); !isLocalHit(got) {
			s.t.Fatalf("B after its copy: Cache-Status %q", got)
		}
	}
	return stored
}

// TestLocalTierPurgeReachesEveryInstance: a purge through A's admin API,
// of everything or of one model, makes B miss within a second, though B
// held a copy in its memory.
func TestLocalTierPurgeReachesEveryInstance(t *testing.T) {
	s := startLocalTier(t)
	for _, purge := range []struct{ path, model string }{
		{"/llm/cache", "gpt-4o-mini"},
		{"/llm/cache?model=gpt-4o", "gpt-4o"},
	} {
		s.warm(purge.model)
		if _, stats := adminCall(t, http.MethodGet, "/llm/cache/stats"); !strings.Contains(stats, `"local":33554432`) || !strings.Contains(stats, `"local_stats":{"entries":`) {
			t.Fatalf("A's stats say nothing of its local tier: %s", stats)
		}
		if status, body := adminCall(t, http.MethodDelete, purge.path); status != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d %s", purge.path, status, body)
		}
		purged := time.Now()
		harness.Eventually(t, "a miss on B", func() bool { return s.ask(s.b, purge.model) == "llmgate; fwd=miss" })
		if took := time.Since(purged); took > time.Second {
			t.Fatalf("DELETE %s: B served its copy for %s", purge.path, took)
		}
	}
}

// TestLocalTierNeverOutlivesRedis: an entry's copy on B is served only
// while the entry lives in Redis; once its TTL has passed, B misses.
func TestLocalTierNeverOutlivesRedis(t *testing.T) {
	s := startLocalTier(t)
	// The entry was stored before A's answer arrived, so it expires in
	// Redis before this: no request sent after may be a hit.
	expired := s.warm("short-lived").Add(4 * time.Second)
	harness.Eventually(t, "B to miss", func() bool {
		sent := time.Now()
		got := s.ask(s.b, "short-lived")
		if strings.HasPrefix(got, "llmgate; hit; ") && !sent.Before(expired) {
			t.Fatalf("B served a hit (%q) %s after the entry expired", got, sent.Sub(expired))
		}
		return got == "llmgate; fwd=miss"
	})
}

// TestLocalTierOutlivesReload: a reload that keeps the storage and the
// local bound keeps the copies, and their subscription to purges.
func TestLocalTierOutlivesReload(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	config := func(ttl string) string {
		return testcaddy.Global("") + fmt.Sprintf("%s {\n\tllm_cache {\n\t\tstorage redis %s\n\t\tlocal 32MiB\n\t\tttl %s\n\t}\n\treverse_proxy %s\n}\n", site, rs.URL(), ttl, up.URL())
	}
	testcaddy.Load(t, config("1h"))
	if resp, _ := post(t, site+"/v1/chat/completions", chatBody); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Fatalf("first request: Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	local := func() bool {
		resp, _ := post(t, site+"/v1/chat/completions", chatBody)
		return isLocalHit(resp.Header.Get("Cache-Status"))
	}
	harness.Eventually(t, "a hit from the local tier", local)
	testcaddy.Load(t, config("2h"))
	if !local() {
		t.Fatal("the reload dropped the local tier's copies")
	}
	if status, body := adminCall(t, http.MethodDelete, "/llm/cache"); status != http.StatusNoContent {
		t.Fatalf("DELETE /llm/cache: %d %s", status, body)
	}
	if resp, _ := post(t, site+"/v1/chat/completions", chatBody); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Fatalf("after a purge: Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
}

// TestLocalTierRedisOutage: with Redis frozen, the local tier does not
// outlast its entries' TTL, then stops serving copies once it cannot hear
// purges; every request is answered within the Redis budget (the limiter
// admits, on_storage_error open; the cache passes it through). Once Redis
// is back, copies are served again with no reload.
func TestLocalTierRedisOutage(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	llm_ratelimit {
		zone local_outage {
			requests 1000/m
		}
		storage redis %s
		on_storage_error open
	}
	llm_cache {
		storage redis %s
		local 32MiB
		ttl 2s
	}
	reverse_proxy %s
}
`, site, rs.URL(), rs.URL(), up.URL()))
	quick := &http.Client{Timeout: time.Second}
	ask := func() string {
		req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(chatBody))
		req.Header.Set("Authorization", "Bearer sk-local-outage")
		resp, err := quick.Do(req)
		if err != nil {
			t.Fatalf("no answer within 1s: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp.Header.Get("Cache-Status")
	}
	if got := ask(); got != "llmgate; fwd=miss" {
		t.Fatalf("first request: %q", got)
	}
	expired := time.Now().Add(2 * time.Second)
	harness.Eventually(t, "a hit from the local tier", func() bool { return isLocalHit(ask()) })

	rs.Freeze()
	harness.Eventually(t, "a miss with Redis frozen", func() bool {
		sent := time.Now()
		got := ask()
		if strings.HasPrefix(got, "llmgate; hit") && !sent.Before(expired) {
			t.Fatalf("a hit (%q) %s after the entry expired", got, sent.Sub(expired))
		}
		return got == "llmgate; fwd=miss"
	})
	for range 3 {
		if got := ask(); got != "llmgate; fwd=miss" {
			t.Fatalf("Redis frozen: %q, want the request passed through", got)
		}
	}

	rs.Thaw()
	harness.Eventually(t, "hits from the local tier again", func() bool { return isLocalHit(ask()) })
}
