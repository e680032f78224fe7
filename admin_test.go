package llmgate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

func TestCacheAdminAPI(t *testing.T) {
	site, up := cacheSite(t, "")
	a := `{"model":"model-a","messages":[{"role":"user","content":"admin"}]}`
	b := `{"model":"model-b","messages":[{"role":"user","content":"admin"}]}`
	post(t, site+"/v1/chat/completions", a)
	post(t, site+"/v1/chat/completions", b)

	admin := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, testcaddy.AdminURL()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	entries := func() (api, metric int64) {
		t.Helper()
		status, body := admin(http.MethodGet, "/llm/cache/stats")
		var stats struct {
			Stores []struct {
				Backend string `json:"backend"`
				Entries int64  `json:"entries"`
			} `json:"stores"`
		}
		if err := json.Unmarshal([]byte(body), &stats); status != 200 || err != nil || len(stats.Stores) == 0 || stats.Stores[0].Backend != "memory" {
			t.Fatalf("stats: %d %s", status, body)
		}
		for _, st := range stats.Stores {
			api += st.Entries
		}
		return api, int64(testcaddy.Metrics(t)["llmgate_cache_entries"])
	}
	before, beforeMetric := entries()
	if before < 2 {
		t.Fatalf("%d entries, want the two stored", before)
	}
	if status, body := admin(http.MethodDelete, "/llm/cache?model=model-a"); status != http.StatusNoContent {
		t.Fatalf("purge model: %d %s", status, body)
	}
	// The counts drop with the purge, not later.
	if after, afterMetric := entries(); after != before-1 || afterMetric != beforeMetric-1 {
		t.Errorf("entries %d then %d (metric %d then %d): want one fewer", before, after, beforeMetric, afterMetric)
	}
	calls := up.Calls()
	if resp, _ := post(t, site+"/v1/chat/completions", b); !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Errorf("model-b after purging model-a: %q, want a hit", resp.Header.Get("Cache-Status"))
	}
	if resp, _ := post(t, site+"/v1/chat/completions", a); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Errorf("model-a after its purge: %q, want a miss", resp.Header.Get("Cache-Status"))
	}
	if up.Calls() != calls+1 {
		t.Errorf("upstream calls %d, want %d", up.Calls(), calls+1)
	}
	if status, _ := admin(http.MethodDelete, "/llm/cache"); status != http.StatusNoContent {
		t.Fatalf("purge all: %d", status)
	}
	if resp, _ := post(t, site+"/v1/chat/completions", b); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Errorf("model-b after purging all: %q, want a miss", resp.Header.Get("Cache-Status"))
	}
	if status, _ := admin(http.MethodGet, "/llm/cache"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET /llm/cache: %d, want 405", status)
	}
}
