package llmgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

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
