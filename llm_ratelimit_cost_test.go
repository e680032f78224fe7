package llmgate_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// costPrices price the test models so that one answer costs whole
// cents: 100 µ$ a prompt token, 400 µ$ a generated one. An answer of 10
// prompt and 50 completion tokens costs 1,000 + 20,000 µ$ = $0.021.
const costPrices = `
	prices {
		gpt-4o-mini        input 100 output 400 cached_input 50
		claude-3-5-haiku-* input 100 output 400 cache_write 125 cache_read 10
	}`

// costZone is a site's llm_ratelimit block: costPrices and one zone of
// the given options, named after the site.
func costZone(t *testing.T, options string) string {
	return fmt.Sprintf("%s\n\tzone %s {\n%s\n\t}", costPrices, relName(t, "cost"), options)
}

// spend asks for a completion of at most 50 tokens (OpenAI's chat
// completions, or Anthropic's messages for a path of /v1/messages), with
// the fake upstream's x-fake-* header pairs. It returns the answer, the
// USD its zone had left after the request's reservation (-1 when no
// header says), and the body.
func spend(t *testing.T, site, path, model, prompt string, stream bool, header ...string) (*http.Response, pricing.Micros, string) {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"max_tokens":50,"stream":%t,"messages":[{"role":"user","content":%q}]}`, model, stream, prompt)
	if stream && path != "/v1/messages" {
		body = strings.TrimSuffix(body, "}") + `,"stream_options":{"include_usage":true}}`
	}
	resp, b, _ := send(t, site+path, body, header...)
	remaining := pricing.Micros(-1)
	if v := resp.Header.Get("X-Ratelimit-Remaining-Cost"); v != "" {
		var err error
		if remaining, err = pricing.ParseUSD(v); err != nil {
			t.Fatalf("x-ratelimit-remaining-cost %q: %v", v, err)
		}
	}
	return resp, remaining, b
}

// costLeft sends a request whose answer costs nothing (no usage) and
// returns what its cost zone had left after its reservation; probe makes
// its prompt its own, so that no cache answers it.
func costLeft(t *testing.T, site string, probe int) pricing.Micros {
	t.Helper()
	_, rem, body := spend(t, site, "/v1/chat/completions", "gpt-4o-mini", fmt.Sprint("probe ", probe), false, "x-fake-usage", "0,0")
	if rem < 0 {
		t.Fatalf("probe: %s", body)
	}
	return rem
}

// TestCostZoneAdmitsWhatFits: a cost zone admits a request while its
// estimate fits, settles each to its answer's usage priced by the model,
// and then refuses with "type":"cost"; the upstream sees only the admitted
// requests. A fixed window: nothing refills while the test runs.
func TestCostZoneAdmitsWhatFits(t *testing.T) {
	for _, tc := range []struct {
		name, path, model string
		stream            bool
	}{
		{"openai json", "/v1/chat/completions", "gpt-4o-mini", false},
		{"openai stream", "/v1/chat/completions", "gpt-4o-mini", true},
		{"anthropic json", "/v1/messages", "claude-3-5-haiku-latest", false},
		{"anthropic stream", "/v1/messages", "claude-3-5-haiku-latest", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site, up := limitSite(t, costZone(t, "cost 0.10/m\nalgorithm fixed_window"))
			// Each answer: 10 prompt and 50 completion tokens, $0.021.
			// Each reservation: the prompt's estimate and 50 output
			// tokens, a little over $0.020. $0.10 fits four.
			var remaining []pricing.Micros
			for i := range 4 {
				resp, rem, body := spend(t, site, tc.path, tc.model, fmt.Sprint("question ", i), tc.stream, "x-fake-usage", "10,50")
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
				}
				if got := resp.Header.Get("X-Ratelimit-Limit-Cost"); got != "0.10" {
					t.Errorf("x-ratelimit-limit-cost %q, want 0.10", got)
				}
				remaining = append(remaining, rem)
			}
			for i := 1; i < len(remaining); i++ {
				if fell := remaining[i-1] - remaining[i]; fell != 21_000 {
					t.Errorf("remaining %v: fell by %d µ$ after answer %d, want the settled 21000", remaining, fell, i)
				}
			}
			resp, _, body := spend(t, site, tc.path, tc.model, "question 4", tc.stream, "x-fake-usage", "10,50")
			if resp.StatusCode != 429 || !strings.Contains(body, `"type":"cost"`) && !strings.Contains(body, "rate_limit_error") ||
				!strings.Contains(body, "$0.10 per 1m0s") {
				t.Fatalf("fifth request: %d %s, want 429 of the cost zone", resp.StatusCode, body)
			}
			if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Ratelimit-Remaining-Cost") == "" {
				t.Errorf("refusal headers %v", resp.Header)
			}
			if n := up.CallsTo(tc.path); n != 4 {
				t.Errorf("upstream saw %d requests, want the 4 admitted", n)
			}
		})
	}
}

// TestCostPricedByKind: the cached parts of a prompt are priced at their
// own price, and only once. OpenAI counts cached tokens inside
// prompt_tokens; Anthropic counts cache writes and reads apart from
// input_tokens.
func TestCostPricedByKind(t *testing.T) {
	for _, tc := range []struct {
		name, path, model string
		header            []string
		want              pricing.Micros
	}{
		// 400 uncached × 100 + 600 cached × 50 + 10 out × 400.
		{"openai", "/v1/chat/completions", "gpt-4o-mini", []string{"x-fake-usage", "1000,10", "x-fake-cached", "600"}, 74_000},
		// 100 input × 100 + 1000 written × 125 + 2000 read × 10 + 10 out × 400.
		{"anthropic", "/v1/messages", "claude-3-5-haiku-latest", []string{"x-fake-usage", "100,10", "x-fake-cache-write", "1000", "x-fake-cached", "2000"}, 159_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site, _ := limitSite(t, costZone(t, "cost 10/m\nalgorithm fixed_window"))
			_, before, _ := spend(t, site, tc.path, tc.model, "cached prompt 1", false, tc.header...)
			// The same reservation again: what fell is what the first cost.
			_, after, body := spend(t, site, tc.path, tc.model, "cached prompt 2", false, tc.header...)
			if before-after != tc.want {
				t.Errorf("charged %d µ$, want %d (remaining %d then %d; %s)", before-after, tc.want, before, after, body)
			}
		})
	}
}

// TestCostUnpricedModelRefused: a model the prices do not cover is
// refused in its provider's shape, naming the model and the zone, and
// never reaches the upstream: what cannot be priced is never free.
func TestCostUnpricedModelRefused(t *testing.T) {
	site, up := limitSite(t, costZone(t, "cost 10/m"))
	resp, _, body := spend(t, site, "/v1/chat/completions", "mystery-model", "hello", false)
	if resp.StatusCode != 400 || !strings.Contains(body, `"code":"model_not_priced"`) || !strings.Contains(body, `mystery-model`) ||
		!strings.Contains(body, "zone cost_") {
		t.Fatalf("unpriced model: %d %s", resp.StatusCode, body)
	}
	resp, _, body = spend(t, site, "/v1/messages", "claude-opus-4", "hello", false)
	if resp.StatusCode != 400 || !strings.Contains(body, `"type":"error"`) || !strings.Contains(body, `"invalid_request_error"`) {
		t.Fatalf("unpriced model, Anthropic's API: %d %s", resp.StatusCode, body)
	}
	if up.Calls() != 0 {
		t.Errorf("upstream saw %d requests of unpriced models", up.Calls())
	}
}

// TestCostDayWindowSaysDoNotRetry: a budget that comes back in hours
// tells clients not to sleep on it (x-should-retry: false), with the wait
// in Retry-After.
func TestCostDayWindowSaysDoNotRetry(t *testing.T) {
	site, _ := limitSite(t, costZone(t, "cost 0.03/d"))
	if resp, _, body := spend(t, site, "/v1/chat/completions", "gpt-4o-mini", "first", false, "x-fake-usage", "10,50"); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, body)
	}
	resp, _, body := spend(t, site, "/v1/chat/completions", "gpt-4o-mini", "second", false, "x-fake-usage", "10,50")
	if resp.StatusCode != 429 || !strings.Contains(body, "$0.03 per 1d") {
		t.Fatalf("second: %d %s", resp.StatusCode, body)
	}
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.Header.Get("X-Should-Retry") != "false" || retry < 3600 {
		t.Errorf("x-should-retry %q, retry-after %q: want false and hours", resp.Header.Get("X-Should-Retry"), resp.Header.Get("Retry-After"))
	}
}

// TestCostFreeAnswers: a cache hit and an upstream error cost nothing; a
// stream cut off after some text costs that text, less than it would have
// cost whole.
func TestCostFreeAnswers(t *testing.T) {
	site, _ := proxySite(t, limitDirective(costZone(t, "cost 10/m\nalgorithm fixed_window"))+"\n\tllm_cache")
	chat := "/v1/chat/completions"
	// charged is what the request with headers cost: the fall of the
	// remaining amount between two probes of one reservation each.
	probe := 0
	remaining := func() pricing.Micros {
		probe++
		return costLeft(t, site, probe)
	}
	charged := func(prompt string, stream bool, header ...string) (pricing.Micros, *http.Response) {
		before := remaining()
		resp, _, _ := spend(t, site, chat, "gpt-4o-mini", prompt, stream, header...)
		return before - remaining(), resp
	}
	if c, _ := charged("to cache", false, "x-fake-usage", "10,50"); c != 21_000 {
		t.Fatalf("a miss cost %d µ$, want 21000", c)
	}
	if c, resp := charged("to cache", false, "x-fake-usage", "10,50"); c != 0 || !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Errorf("a cache hit (%q) cost %d µ$, want 0", resp.Header.Get("Cache-Status"), c)
	}
	if c, resp := charged("fails", false, "x-fake-status", "500"); c != 0 || resp.StatusCode != 500 {
		t.Errorf("an upstream %d cost %d µ$, want 0", resp.StatusCode, c)
	}
	long := []string{"x-fake-no-usage", "1", "x-fake-chunks", "20", "x-fake-size", "4000"}
	whole, _ := charged("tell a long story", true, long...)
	cut, _ := charged("tell a long story again", true, append(long, "x-fake-die-after", "5")...)
	if cut <= 0 || cut >= whole {
		t.Errorf("a stream cut after 5 events cost %d µ$, one whole %d: want some, and less", cut, whole)
	}
}

// TestCostSharedAcrossInstances: two instances on one Redis spend one
// budget. 64 clients at once against a budget that fits 20 answers: 20
// answered, or one more when a reservation fits before the answers
// before it settle above their estimates.
func TestCostSharedAcrossInstances(t *testing.T) {
	rs := testredis.Start(t)
	up := fakeai.Start(t)
	// Each answer: 20 prompt and 50 completion tokens, $0.022; the
	// reservations a little less. A day's budget hardly refills.
	site1, site2 := twoInstances(t, fmt.Sprintf("\tllm_ratelimit {\n%s\n\t\tstorage redis %s\n\t}",
		costZone(t, "key static\ncost 0.44/d"), rs.URL()), up)
	statuses := statusesOf(64, func(i int) int {
		resp, _, _ := spend(t, []string{site1, site2}[i%2], "/v1/chat/completions", "gpt-4o-mini", fmt.Sprint("client ", i), false, "x-fake-usage", "20,50")
		return resp.StatusCode
	})
	if ok := statuses[200]; ok < 20 || ok > 21 || statuses[429] != 64-ok {
		t.Errorf("statuses %v: want 20 or 21 answered, the rest refused", statuses)
	}
	if up.Calls() != statuses[200] {
		t.Errorf("upstream saw %d requests, %d answered", up.Calls(), statuses[200])
	}
}

// TestCostPricesFile: prices come from a LiteLLM-shaped file (USD a token)
// beside the block, which wins for a model both price; the most specific
// entry prices a model.
func TestCostPricesFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(file, []byte(`{
		"sample_spec": {"input_cost_per_token": 0, "mode": "chat"},
		"gpt-4o-mini": {"input_cost_per_token": 1e-4, "output_cost_per_token": 4e-4, "litellm_provider": "openai"},
		"gpt-4o": {"input_cost_per_token": 1e-3, "output_cost_per_token": 4e-3},
		"claude-3-5-haiku-latest": {"input_cost_per_token": 9e-3, "output_cost_per_token": 9e-3}
	}`), 0o600); err != nil {
		t.Fatal(err)
	}
	site, _ := limitSite(t, fmt.Sprintf(`
	prices_file %s
	prices {
		gpt-4o*                 input 200 output 800
		claude-3-5-haiku-latest input 100 output 400
	}
	zone %s {
		cost 10/m
		algorithm fixed_window
	}`, file, relName(t, "cost")))
	for _, tc := range []struct {
		model, path string
		want        pricing.Micros
	}{
		{"gpt-4o-mini", "/v1/chat/completions", 21_000},       // the file's plain name over the block's glob
		{"gpt-4o-2024-08-06", "/v1/chat/completions", 42_000}, // the block's glob
		{"claude-3-5-haiku-latest", "/v1/messages", 21_000},   // the block over the file
	} {
		_, before, _ := spend(t, site, tc.path, tc.model, "priced 1", false, "x-fake-usage", "10,50")
		_, after, body := spend(t, site, tc.path, tc.model, "priced 2", false, "x-fake-usage", "10,50")
		if before-after != tc.want {
			t.Errorf("%s cost %d µ$, want %d (%s)", tc.model, before-after, tc.want, body)
		}
	}
}

// TestInputOutputTokenZones: tokens_in and tokens_out count the prompt
// and the output apart, as Anthropic limits them.
func TestInputOutputTokenZones(t *testing.T) {
	site, _ := limitSite(t, fmt.Sprintf("zone %s {\n tokens_in 1000/m\n tokens_out 120/m\n algorithm fixed_window\n }", relName(t, "io")))
	var statuses []int
	for i := range 3 {
		resp, _, body := spend(t, site, "/v1/messages", "claude-3-5-haiku-latest", fmt.Sprint("in and out ", i), false, "x-fake-usage", "10,50")
		statuses = append(statuses, resp.StatusCode)
		if i == 0 && (resp.Header.Get("Anthropic-Ratelimit-Output-Tokens-Limit") != "120" || resp.Header.Get("Anthropic-Ratelimit-Input-Tokens-Limit") != "1000") {
			t.Errorf("headers %v (%s)", resp.Header, body)
		}
	}
	// 50 output tokens reserved and spent each: the third finds 20 left.
	if fmt.Sprint(statuses) != "[200 200 429]" {
		t.Errorf("statuses %v, want [200 200 429]", statuses)
	}
}

// TestCostWarnsOfUnpricedModels: a config whose prices leave models out
// says so when it loads, naming the zones and what is priced.
func TestCostWarnsOfUnpricedModels(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "warn.log")
	global := testcaddy.Global(fmt.Sprintf("log llm {\n\t\toutput file %s\n\t\tlevel WARN\n\t\tinclude http.handlers.llm_ratelimit\n\t}", logFile))
	testcaddy.Load(t, global+limitConfig(site, costZone(t, "cost 1/d"), up))
	harness.Eventually(t, "a warning of unpriced models in the log", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "cost zones refuse models with no price") &&
			strings.Contains(string(b), `"claude-3-5-haiku-*","gpt-4o-mini"`)
	})
}

// TestCostPlaceholderAndMetric: {http.llm.cost} tells what each answer
// cost, nothing for a cache hit, and llmgate_cost_usd_total adds it up by
// model and zone.
func TestCostPlaceholderAndMetric(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "access.log")
	zone := relName(t, "cost")
	site, _ := proxySite(t, fmt.Sprintf(`
	log {
		output file %s
	}
	log_append llm_cost {http.llm.cost}
	llm_ratelimit {
		%s
		zone %s {
			cost 10/d
		}
	}
	llm_cache`, logFile, costPrices, zone))
	series := `llmgate_cost_usd_total{model="gpt-4o-mini",zone="` + zone + `"}`
	before := testcaddy.Metrics(t)[series]
	for range 2 { // a miss, then a hit
		if resp, _, body := spend(t, site, "/v1/chat/completions", "gpt-4o-mini", "what does it cost", false, "x-fake-usage", "10,50"); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if got := testcaddy.Metrics(t)[series] - before; got < 0.020999 || got > 0.021001 {
		t.Errorf("%s grew by %v, want 0.021", series, got)
	}
	var costs []string
	harness.Eventually(t, "two access log lines", func() bool {
		b, _ := os.ReadFile(logFile)
		costs = costs[:0]
		for line := range strings.Lines(string(b)) {
			var entry struct {
				Cost string `json:"llm_cost"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil {
				costs = append(costs, entry.Cost)
			}
		}
		return len(costs) == 2
	})
	if fmt.Sprint(costs) != "[0.021 0.00]" {
		t.Errorf("{http.llm.cost} of a miss and a hit: %v, want [0.021 0.00]", costs)
	}
}
