package llmgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

func TestMetricsPlaceholdersAndAdmin(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "access.log")
	zone := fmt.Sprintf("metrics_%d", harness.FreePort(t))
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
	before := testcaddy.Metrics(t)
	// A zone's decisions are on /metrics from the moment it is loaded.
	for _, result := range []string{"allowed", "refused"} {
		series := `llmgate_ratelimit_decisions_total{result="` + result + `",zone="` + zone + `"}`
		if v, ok := before[series]; !ok || v != 0 {
			t.Errorf("before any request, %s = %v (on /metrics: %v), want 0", series, v, ok)
		}
	}

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

	after := testcaddy.Metrics(t)
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
			if got := testcaddy.Metrics(t)[series]; got != v {
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

// tokenMetricsSite loads a site with a token zone in front of upstream.
func tokenMetricsSite(t *testing.T, upstream string) string {
	t.Helper()
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_ratelimit {\n\t\tzone %s {\n\t\t\ttokens 100000000/m\n\t\t}\n\t}\n\treverse_proxy %s\n}\n",
		site, relName(t, "labels"), upstream))
	return site
}

// TestMetricsModelNotUTF8: a model name that is not UTF-8, in the request
// or in the upstream's answer, is counted under a valid label: the
// request is answered and /metrics stays readable.
func TestMetricsModelNotUTF8(t *testing.T) {
	up := fakeai.Start(t)
	// An upstream that names its model with a byte that is not UTF-8.
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","model":"raw-model`+"\xff"+`","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`)
	}))
	t.Cleanup(raw.Close)
	for _, upstream := range []string{up.URL(), raw.URL} {
		site := tokenMetricsSite(t, upstream)
		resp, body, err := send(t, site+"/v1/chat/completions", "{\"model\":\"gpt-4o\xff\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
		if err != nil || resp.StatusCode != 200 || !strings.Contains(body, `"total_tokens"`) {
			t.Fatalf("upstream %s: %d %q %v, want the whole answer", upstream, resp.StatusCode, body, err)
		}
	}
	b := testcaddy.MetricsPage(t)
	if !utf8.Valid(b) {
		t.Fatal("/metrics is not valid UTF-8")
	}
	for _, model := range []string{"gpt-4o\uFFFD", "raw-model\uFFFD"} {
		if !strings.Contains(string(b), `llmgate_tokens_total{kind="prompt",model="`+model+`",source="reported"}`) {
			t.Errorf("no prompt tokens counted for model %q", model)
		}
	}
}

// TestMetricsMadeUpModelsDoNotCrowdOutRealOnes: the model label holds the
// models upstreams answered with. A caller who sends more made-up model
// names than the label set holds (here to an upstream that serves them
// all as one model, as providers serve aliases) fills nothing: a model
// the upstream answers with afterwards still gets its own label.
func TestMetricsMadeUpModelsDoNotCrowdOutRealOnes(t *testing.T) {
	up := fakeai.Start(t)
	site := tokenMetricsSite(t, up.URL())
	port := strings.TrimPrefix(site, "http://127.0.0.1:")
	chatOf := func(model string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
	}
	for i := range 101 {
		if resp, body := post(t, site+"/v1/chat/completions", chatOf(fmt.Sprintf("made-up-%d-%s", i, port)), "x-fake-model", "served-"+port); resp.StatusCode != 200 {
			t.Fatalf("made-up model %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if resp, body := post(t, site+"/v1/chat/completions", chatOf("real-"+port)); resp.StatusCode != 200 {
		t.Fatalf("real model: %d %s", resp.StatusCode, body)
	}
	m := testcaddy.Metrics(t)
	for series := range m {
		if strings.Contains(series, "made-up-") {
			t.Fatalf("a made-up model has a label: %s", series)
		}
	}
	for _, model := range []string{"served-" + port, "real-" + port} {
		if m[`llmgate_tokens_total{kind="prompt",model="`+model+`",source="reported"}`] == 0 {
			t.Errorf("model %s, which the upstream answered with, has no label of its own", model)
		}
	}
}
