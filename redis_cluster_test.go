package llmgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// TestRedisClusterSharedByTwoInstances: two instances on one Redis
// Cluster share limits, exactly, under 2 × 32 concurrent clients, whose
// buckets lie on every primary; and cache entries, JSON and stream.
func TestRedisClusterSharedByTwoInstances(t *testing.T) {
	cluster := testredis.StartCluster(t, 3, 0)
	up := fakeai.Start(t)
	const limit, credentials = 10, 4
	site1, site2 := twoInstances(t, fmt.Sprintf(`
	llm_ratelimit {
		zone per_key {
			requests %d/h
		}
		storage redis_cluster %s
	}
	llm_cache {
		storage redis_cluster %s
	}`, limit, cluster.URL(), cluster.URL()), up)

	// Each of 64 clients sends two requests with one of four keys: 32 a
	// key, of which exactly the limit pass, whichever instance they reach.
	// At 10 an hour, no token comes back during the test.
	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	var wg sync.WaitGroup
	for i := range 64 {
		site := []string{site1, site2}[i%2]
		key := fmt.Sprint("sk-cluster-", i%credentials)
		wg.Go(func() {
			for j := range 2 {
				req, _ := harness.NewRequest(t.Context(), http.MethodPost, site+"/v1/embeddings", `{"model":"e","input":"x"}`, "Authorization", "Bearer "+key)
				resp, err := harness.Client.Do(req)
				if err != nil {
					t.Errorf("client %d, request %d: %v", i, j, err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				if statuses[key] == nil {
					statuses[key] = map[int]int{}
				}
				statuses[key][resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for key, got := range statuses {
		if got[200] != limit || got[429] != 32-limit {
			t.Errorf("%s across two instances: %v, want %d × 200 and %d × 429", key, got, limit, 32-limit)
		}
	}
	if len(statuses) != credentials {
		t.Fatalf("answers for %d keys, want %d", len(statuses), credentials)
	}

	assertCacheShared(t, site1, site2, up)
	assertKeysHashed(t, cluster.Client(redisclient.Options{}).Universal, "sk-cluster-", "sk-cache")

	// The admin API of one instance sees and purges the entries on every
	// primary: the other instance misses after.
	var stats struct {
		Stores []struct {
			Backend string `json:"backend"`
			Entries int64  `json:"entries"`
		} `json:"stores"`
	}
	if status, body := adminCall(t, http.MethodGet, "/llm/cache/stats"); status != 200 || json.Unmarshal([]byte(body), &stats) != nil ||
		len(stats.Stores) != 1 || stats.Stores[0].Backend != "redis_cluster" || stats.Stores[0].Entries != credentials+2 {
		// An embedding a credential, the chat answer and the stream.
		t.Fatalf("stats: %d %s, want %d entries in one redis_cluster store", status, body, credentials+2)
	}
	if status, body := adminCall(t, http.MethodDelete, "/llm/cache?model=gpt-4o-mini"); status != http.StatusNoContent {
		t.Fatalf("purge: %d %s", status, body)
	}
	lb := strings.TrimPrefix(site1, "http://")
	if resp, _ := post(t, site2+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-cache", "Host", lb); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Errorf("instance 2 after a purge on instance 1: %q, want a miss", resp.Header.Get("Cache-Status"))
	}
	if nodes := keysByPrimary(t, cluster); len(nodes) < 2 {
		t.Errorf("keys on %d primaries: the test did not spread over the cluster", len(nodes))
	}
}

// adminCall sends a request to the admin API of the in-process Caddy.
func adminCall(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, testcaddy.AdminURL()+path, nil)
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// keysByPrimary counts llmgate's keys on each primary that holds some.
func keysByPrimary(t *testing.T, cluster *testredis.Cluster) map[*testredis.Server]int {
	t.Helper()
	n := map[*testredis.Server]int{}
	for _, k := range testredis.Keys(t, cluster.Client(redisclient.Options{}).Universal, "llmgate:*") {
		n[cluster.PrimaryOf(k)]++
	}
	return n
}

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
			harness.Eventually(t, "limits through Redis again", func() bool {
				n++
				status, _ := send(fmt.Sprint("sk-failover-", n), "back")
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
