package llmgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
	// A memory store cannot list a model's entries: it counts them until
	// new ones take their place, but serves none (below).
	if after, afterMetric := entries(); after != before || afterMetric != beforeMetric {
		t.Errorf("entries %d then %d (metric %d then %d): want as many", before, after, beforeMetric, afterMetric)
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

// TestRateLimitAdminUsage: the admin API tells what a key has left in
// each rate of a zone, as the stores count it, and charges nothing.
func TestRateLimitAdminUsage(t *testing.T) {
	zone := relName(t, "usage")
	site, _ := limitSite(t, fmt.Sprintf("%s\n\tzone %s {\n\t\tkey {http.request.header.X-Team}\n\t\trequests 100/h\n\t\tcost 1/d\n\t\talgorithm fixed_window\n\t}", costPrices, zone))
	for i := range 2 {
		if resp, _, body := spend(t, site, "/v1/chat/completions", "gpt-4o-mini", fmt.Sprint("usage ", i), false, "X-Team", "analytics", "x-fake-usage", "10,50"); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	get := func(query string) (int, string) {
		resp, err := http.Get(testcaddy.AdminURL() + "/llm/ratelimit/usage?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for range 2 { // reading twice: a read charges nothing
		status, body := get("zone=" + zone + "&key=analytics")
		var got struct {
			Meters []struct {
				Kind             string
				Limit, Remaining json.Number
				ResetsAt         time.Time `json:"resets_at"`
			}
		}
		if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || len(got.Meters) != 2 {
			t.Fatalf("usage: %d %s", status, body)
		}
		want := map[string][2]string{"requests": {"100", "98"}, "cost": {"1.00", "0.958"}} // two answers of $0.021
		for _, m := range got.Meters {
			if w := want[m.Kind]; m.Limit.String() != w[0] || m.Remaining.String() != w[1] {
				t.Errorf("%s: limit %s, remaining %s; want %s and %s (%s)", m.Kind, m.Limit, m.Remaining, w[0], w[1], body)
			}
			if until := time.Until(m.ResetsAt); until < 50*time.Minute || until > 24*time.Hour+time.Minute {
				t.Errorf("%s resets at %s, in %s", m.Kind, m.ResetsAt, until)
			}
		}
	}
	if status, body := get("zone=" + zone + "&key=nobody"); status != 200 || !strings.Contains(body, `"remaining":1.00`) {
		t.Errorf("a key never seen: %d %s, want the whole budget", status, body)
	}
	// The key in a POST, kept out of the admin API's log of URIs.
	resp, err := http.Post(testcaddy.AdminURL()+"/llm/ratelimit/usage", "application/json",
		strings.NewReader(`{"zone":"`+zone+`","key":"analytics"}`))
	if err != nil {
		t.Fatal(err)
	}
	posted, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(posted), `"remaining":0.958`) {
		t.Errorf("usage by POST: %d %s", resp.StatusCode, posted)
	}
	if status, _ := get("zone=no_such_zone&key=analytics"); status != http.StatusNotFound {
		t.Errorf("unknown zone: %d, want 404", status)
	}
	if status, _ := get("zone=" + zone); status != http.StatusBadRequest {
		t.Errorf("no key: %d, want 400", status)
	}
}
