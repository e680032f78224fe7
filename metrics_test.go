package llmgate_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/testcaddy"
)

// scrape returns the llmgate_ samples of Caddy's /metrics, by series.
func scrape(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(testcaddy.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "llmgate_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		if _, dup := out[line[:i]]; dup {
			t.Fatalf("series %s appears twice", line[:i])
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsPlaceholdersAndAdmin(t *testing.T) {
	up := fakeai.New()
	t.Cleanup(up.Close)
	site := testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "access.log")
	zone := fmt.Sprintf("metrics_%d", testcaddy.FreePort(t))
	config := func(extra string) string {
		return testcaddy.Global("") + fmt.Sprintf(`
%s {
	log {
		output file %s
	}
	log_append llm_cache {http.llm.cache}
	log_append llm_model {http.llm.model}
	log_append llm_zone {http.llm.ratelimit.zone}
	log_append llm_prompt {http.llm.usage.prompt_tokens}
	log_append llm_completion {http.llm.usage.completion_tokens}
	log_append llm_total {http.llm.usage.total_tokens}
	header {
		defer
		X-LLM-Model {http.llm.model}
		X-LLM-Cache {http.llm.cache}
	}
	%s
	llm_ratelimit {
		zone %s {
			requests 3/m
			tokens 100000/m
		}
	}
	llm_cache
	reverse_proxy %s
}
`, site, logFile, extra, zone, up.URL())
	}
	testcaddy.Load(t, config(""))
	before := scrape(t)

	chatA := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"metrics"}]}`
	chatB := `{"model":"gpt-4.1","messages":[{"role":"user","content":"metrics"}]}`
	r1, _ := post(t, site+"/v1/chat/completions", chatA, "x-fake-usage", "30,12") // stored
	r2, _ := post(t, site+"/v1/chat/completions", chatA)                          // hit
	post(t, site+"/v1/models", "")                                                // bypass (path)
	r4, _ := post(t, site+"/v1/chat/completions", chatB)                          // refused: 4th of 3/m
	if r1.StatusCode != 200 || r2.StatusCode != 200 || r4.StatusCode != 429 {
		t.Fatalf("statuses %d %d %d", r1.StatusCode, r2.StatusCode, r4.StatusCode)
	}
	if got := r1.Header.Get("X-Llm-Model"); got != "gpt-4o-mini" {
		t.Errorf("header placeholder {http.llm.model} = %q", got)
	}
	if got1, got2 := r1.Header.Get("X-Llm-Cache"), r2.Header.Get("X-Llm-Cache"); got1 != "miss" || got2 != "hit" {
		t.Errorf("header placeholder {http.llm.cache} = %q then %q, want miss then hit", got1, got2)
	}

	after := scrape(t)
	delta := func(series string) float64 { return after[series] - before[series] }
	for series, want := range map[string]float64{
		`llmgate_cache_requests_total{result="stored"}`:                                 1,
		`llmgate_cache_requests_total{result="hit"}`:                                    1,
		`llmgate_cache_requests_total{result="bypass"}`:                                 1,
		`llmgate_cache_upstream_calls_saved_total`:                                      1,
		`llmgate_ratelimit_decisions_total{result="allowed",zone="` + zone + `"}`:       3,
		`llmgate_ratelimit_decisions_total{result="refused",zone="` + zone + `"}`:       1,
		`llmgate_tokens_total{kind="prompt",model="gpt-4o-mini",source="reported"}`:     30,
		`llmgate_tokens_total{kind="completion",model="gpt-4o-mini",source="reported"}`: 12,
	} {
		if got := delta(series); got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	if after["llmgate_cache_entries"] < 1 || after["llmgate_cache_bytes"] < 100 {
		t.Errorf("entries %v, bytes %v", after["llmgate_cache_entries"], after["llmgate_cache_bytes"])
	}

	// A reload keeps the counts, once each.
	testcaddy.Load(t, config("header X-Reloaded 1"))
	for series, v := range after {
		if strings.HasSuffix(series, "_total") || strings.Contains(series, "_total{") {
			if got := scrape(t)[series]; got != v {
				t.Errorf("after a reload %s = %v, want %v", series, got, v)
			}
		}
	}

	// The access log carries the placeholders.
	testcaddy.Load(t, testcaddy.Global("")+testcaddy.Site(t)+" {\n\trespond ok\n}\n")
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 4 {
		t.Fatalf("%d access log lines", len(lines))
	}
	for i, want := range []map[string]any{
		{"llm_cache": "miss", "llm_model": "gpt-4o-mini", "llm_prompt": 30.0, "llm_completion": 12.0, "llm_total": 42.0},
		{"llm_cache": "hit", "llm_model": "gpt-4o-mini"},
		{"llm_cache": "bypass"},
		{"llm_zone": zone, "llm_model": "gpt-4.1"},
	} {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i+1, k, lines[i][k], v)
			}
		}
	}
}

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
	status, body := admin(http.MethodGet, "/llm/cache/stats")
	var stats struct {
		Stores []struct {
			Backend string `json:"backend"`
			Entries int64  `json:"entries"`
		} `json:"stores"`
	}
	if err := json.Unmarshal([]byte(body), &stats); status != 200 || err != nil || len(stats.Stores) == 0 || stats.Stores[0].Backend != "memory" || stats.Stores[0].Entries < 2 {
		t.Fatalf("stats: %d %s", status, body)
	}
	if status, body := admin(http.MethodDelete, "/llm/cache?model=model-a"); status != http.StatusNoContent {
		t.Fatalf("purge model: %d %s", status, body)
	}
	calls := up.Calls()
	if resp, _ := post(t, site+"/v1/chat/completions", b); !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Errorf("model-b after purging model-a: %q, want a hit", resp.Header.Get("Cache-Status"))
	}
	if resp, _ := post(t, site+"/v1/chat/completions", a); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss; stored" {
		t.Errorf("model-a after its purge: %q, want a miss", resp.Header.Get("Cache-Status"))
	}
	if up.Calls() != calls+1 {
		t.Errorf("upstream calls %d, want %d", up.Calls(), calls+1)
	}
	if status, _ := admin(http.MethodDelete, "/llm/cache"); status != http.StatusNoContent {
		t.Fatalf("purge all: %d", status)
	}
	if resp, _ := post(t, site+"/v1/chat/completions", b); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss; stored" {
		t.Errorf("model-b after purging all: %q, want a miss", resp.Header.Get("Cache-Status"))
	}
	if status, _ := admin(http.MethodGet, "/llm/cache"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET /llm/cache: %d, want 405", status)
	}
}
