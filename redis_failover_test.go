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
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// TestRedisFailover: a primary dies under llm_ratelimit and llm_cache, in a
// cluster with a replica per primary and behind Sentinel. While nothing
// serves its keys, requests answer within the bound as on_storage_error
// closed says; once a replica is promoted, limits and cache work again,
// with no reload.
func TestRedisFailover(t *testing.T) {
	type setup struct {
		backend, url string
		rdb          *redisclient.Client
		// primaryOf is the running primary of a Redis key.
		primaryOf func(key string) *testredis.Server
		// healed waits for the promotion.
		healed func()
	}
	cluster := func(t *testing.T) setup {
		c := testredis.StartCluster(t, 3, 1)
		c.WaitReplicasSynced()
		return setup{"redis_cluster", c.URL(), c.Client(redisclient.Options{}), c.PrimaryOf, c.WaitHealed}
	}
	tests := []struct {
		name  string
		start func(t *testing.T) setup
		// fail takes the primary away: a crash, or a freeze that only
		// timeouts detect.
		fail func(*testredis.Server)
	}{
		{"cluster, primary killed", cluster, (*testredis.Server).Stop},
		{"cluster, primary frozen", cluster, (*testredis.Server).Freeze},
		{"sentinel, primary killed", func(t *testing.T) setup {
			st := testredis.StartSentinel(t)
			rdb, err := redisclient.Open(redisclient.Sentinel, st.URL(), redisclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rdb.Close() })
			return setup{"redis_sentinel", st.URL(), rdb, func(string) *testredis.Server { return st.CurrentPrimary() }, st.WaitPromoted}
		}, (*testredis.Server).Stop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			up := fakeai.Start(t)
			site := testcaddy.Site(t)
			const limit = 4
			testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	llm_ratelimit {
		zone %s {
			requests %d/h
		}
		storage %s %s
		on_storage_error closed
	}
	llm_cache {
		storage %s %s
	}
	reverse_proxy %s
}
`, site, relName(t, "failover"), limit, s.backend, s.url, s.backend, s.url, up.URL()))
			send := boundedSender(t, site)
			// spend returns a fresh credential whose bucket lands on a
			// primary that want accepts, and the bucket's key, having spent
			// one request of it.
			n := 0
			spend := func(want func(*testredis.Server) bool) (cred, bucket string) {
				t.Helper()
				for range 64 {
					n++
					cred := fmt.Sprint("sk-failover-", n)
					before := bucketKeys(t, s.rdb)
					if status, _ := send(cred, "probe"); status != 200 {
						t.Fatalf("%s: %d", cred, status)
					}
					for k := range bucketKeys(t, s.rdb) {
						if !before[k] && want(s.primaryOf(k)) {
							return cred, k
						}
					}
				}
				t.Fatal("no credential's bucket on the primary wanted")
				return "", ""
			}

			victim, bucket := spend(func(*testredis.Server) bool { return true })
			dead := s.primaryOf(bucket)
			if _, cs := send("sk-cache", "before"); cs != "llmgate; fwd=miss" {
				t.Fatalf("cache before the failover: %q", cs)
			}
			tt.fail(dead)
			// Until the promotion the victim's bucket has no server: each
			// request is refused (closed), within the bound.
			for i := range 3 {
				start := time.Now()
				status, _ := send(victim, fmt.Sprint("down ", i))
				t.Logf("request %d with the primary down: %d in %s", i, status, time.Since(start))
				if status != http.StatusServiceUnavailable {
					t.Errorf("request %d with the primary down: %d, want 503", i, status)
				}
			}
			s.healed()
			promoted := s.primaryOf(bucket)
			// The client learns of the promotion from the next failure on
			// the victim's slot (a request on another slot would pass
			// already), so ask with the victim until it is admitted: its
			// refused requests charged nothing, it has spent one of limit.
			harness.Eventually(t, "limits through Redis again", func() bool {
				status, _ := send(victim, "back")
				return status == 200
			})
			// A bucket on the promoted primary counts exactly again.
			cred, _ := spend(func(p *testredis.Server) bool { return p == promoted })
			var statuses, want []int
			for i := range limit {
				status, _ := send(cred, fmt.Sprint("after ", i))
				statuses = append(statuses, status)
				want = append(want, 200)
			}
			want[limit-1] = 429 // one spent by spend
			if fmt.Sprint(statuses) != fmt.Sprint(want) {
				t.Errorf("after the promotion, %d more requests: %v, want %v", limit, statuses, want)
			}
			if _, cs := send("sk-cache", "after"); cs != "llmgate; fwd=miss" {
				t.Errorf("cache after the promotion: %q", cs)
			}
			if _, cs := send("sk-cache", "after"); !strings.HasPrefix(cs, "llmgate; hit") {
				t.Errorf("cache after the promotion: %q, want a hit", cs)
			}
		})
	}
}

// boundedSender returns a function that sends a chat request with a
// credential to site and returns its status and Cache-Status, failing the
// test when no answer comes within a second: whatever Redis does, a
// request waits on it half a second at most.
func boundedSender(t *testing.T, site string) func(cred, prompt string) (int, string) {
	quick := &http.Client{Timeout: time.Second}
	return func(cred, prompt string) (int, string) {
		t.Helper()
		req, _ := harness.NewRequest(t.Context(), http.MethodPost, site+"/v1/chat/completions",
			`{"model":"m","messages":[{"role":"user","content":"`+prompt+`"}]}`, "Authorization", "Bearer "+cred)
		start := time.Now()
		resp, err := quick.Do(req)
		if err != nil {
			t.Fatalf("no answer within 1s (%s): %v", time.Since(start), err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Cache-Status")
	}
}

// bucketKeys returns the rate-limit keys in Redis.
func bucketKeys(t *testing.T, rdb *redisclient.Client) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, k := range testredis.Keys(t, rdb.Universal, rdb.Prefix+"rl:*") {
		keys[k] = true
	}
	return keys
}
