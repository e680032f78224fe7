package llmgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// hostilePrices price a dear model ten times a cheap one; the fake
// upstream names the model it served in its answer.
const hostilePrices = `
	prices {
		gpt-4o       input 1000 output 4000
		gpt-4o-mini  input 100  output 400
	}`

// chargeOf is what a request with body cost in site's cost zone: the fall
// of the remaining amount between it and a second request of the same
// body (whose reservation is the same). It returns the model the
// upstream says it served.
func chargeOf(t *testing.T, site, body string, header ...string) (pricing.Micros, string) {
	t.Helper()
	remaining := func() (pricing.Micros, string) {
		resp, b, _ := send(t, site+"/v1/chat/completions", body, header...)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %.300s", resp.StatusCode, b)
		}
		rem, err := pricing.ParseUSD(resp.Header.Get("X-Ratelimit-Remaining-Cost"))
		if err != nil {
			t.Fatalf("remaining cost: %v", err)
		}
		var answer struct{ Model string }
		_ = json.Unmarshal([]byte(b), &answer)
		if answer.Model == "" { // a stream: the model of its first chunk
			if _, data, ok := strings.Cut(b, "data: "); ok {
				_ = json.NewDecoder(strings.NewReader(data)).Decode(&answer)
			}
		}
		return rem, answer.Model
	}
	before, served := remaining()
	after, _ := remaining()
	return before - after, served
}

// TestCostModelSpelling: however a caller spells the model (a repeated
// member, escapes in its name or value), the answer is priced as the
// model the upstream served: the dear one is never charged as the cheap.
func TestCostModelSpelling(t *testing.T) {
	site, _ := limitSite(t, fmt.Sprintf("%s\n\tzone %s {\n\t\tcost 100/d\n\t\talgorithm fixed_window\n\t}", hostilePrices, relName(t, "spell")))
	const rest = `"max_tokens":50,"messages":[{"role":"user","content":"spelt"}]}`
	price := map[string]pricing.Micros{"gpt-4o": 210_000, "gpt-4o-mini": 21_000}
	for _, tc := range []struct{ name, body string }{
		{"repeated member", `{"model":"gpt-4o-mini","model":"gpt-4o",` + rest},
		{"repeated, dear first", `{"model":"gpt-4o","model":"gpt-4o-mini",` + rest},
		{"escaped name", `{"model":"gpt-4o-mini","mod\u0065l":"gpt-4o",` + rest},
		{"escaped value", `{"model":"gpt-4\u006f",` + rest},
		{"escaped slash and case", `{"model":"GPT-4\u004f",` + rest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			charged, served := chargeOf(t, site, tc.body, "x-fake-usage", "10,50")
			want, ok := price[strings.ToLower(served)]
			if !ok || charged != want {
				t.Errorf("the upstream served %q, priced %d µ$; charged %d µ$", served, want, charged)
			}
		})
	}
	// "model" in another case: the fake upstream (encoding/json) reads
	// "Model", a case-sensitive one "model". No price fits both: refused.
	for _, body := range []string{`{"model":"gpt-4o-mini","Model":"gpt-4o",` + rest, `{"MODEL":"gpt-4o",` + rest} {
		resp, b := post(t, site+"/v1/chat/completions", body)
		if resp.StatusCode != 400 || !strings.Contains(b, `"code":"ambiguous_model"`) {
			t.Errorf("%s: %d %s, want 400 ambiguous_model", body, resp.StatusCode, b)
		}
	}
}

// TestCostStreamUsageCannotBeHidden: a stream priced by a cost zone is
// charged its real usage whatever the caller says of stream_options: the
// usage is asked for and kept from the client when it did not ask.
func TestCostStreamUsageCannotBeHidden(t *testing.T) {
	site, _ := limitSite(t, fmt.Sprintf("%s\n\tzone %s {\n\t\tcost 100/d\n\t\talgorithm fixed_window\n\t}", hostilePrices, relName(t, "stream")))
	for _, opts := range []string{
		``,
		`,"stream_options":{"include_usage":false}`,
		`,"stream_options":{"include_usage":true,"include_usage":false}`,
		`,"stream_options":null`,
		`,"stream_options":{}`,
	} {
		body := `{"model":"gpt-4o-mini","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"stream"}]` + opts + `}`
		charged, _ := chargeOf(t, site, body, "x-fake-usage", "10,50")
		if charged != 21_000 {
			t.Errorf("stream_options %q: charged %d µ$, want the usage's 21000", opts, charged)
		}
	}
}

// TestCostCoalescedCallChargedOnce: identical requests coalesced by
// llm_cache share one upstream call, charged in full to one of them; the
// others got a free copy, as a cache hit is.
func TestCostCoalescedCallChargedOnce(t *testing.T) {
	site, up := proxySite(t, limitDirective(fmt.Sprintf("%s\n\tzone %s {\n\t\tkey static\n\t\tcost 100/d\n\t\talgorithm fixed_window\n\t}", hostilePrices, relName(t, "coalesce")))+"\n\tllm_cache")
	before := costLeft(t, site, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if resp, _, b := spend(t, site, "/v1/chat/completions", "gpt-4o", "one call for all", false, "x-fake-usage", "10,50", "x-fake-delay", "300ms"); resp.StatusCode != 200 {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		})
	}
	wg.Wait()
	calls := up.Calls() - 1 // the first probe
	after := costLeft(t, site, 2)
	if charged := before - after; charged != pricing.Micros(calls)*210_000 || calls < 1 {
		t.Errorf("%d upstream calls for 8 identical requests charged %d µ$, want 210000 each", calls, charged)
	}
}

// TestCostUnreadableModelNotPricedByCatchAll: a body the limiter cannot
// read as JSON names no model it can price, though a lenient upstream (a
// streaming decoder that stops after the first value) reads one. Priced
// by the catch-all "*", a dear model would cost the cheap price: a cost
// zone refuses such a body instead, as it refuses a model without a price.
func TestCostUnreadableModelNotPricedByCatchAll(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Model string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":50,"total_tokens":60}}`, req.Model)
	}))
	t.Cleanup(up.Close)
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_ratelimit {\n%s\n\t\t* input 100 output 400\n\t}\n\t\tzone %s {\n\t\t\tcost 100/d\n\t\t\talgorithm fixed_window\n\t\t}\n\t}\n\treverse_proxy %s\n}\n",
		site, strings.TrimSuffix(hostilePrices, "}"), relName(t, "lenient"), up.URL))
	const dear = `{"model":"gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"lenient"}]}`
	for _, body := range []string{dear + "x", dear + `{"model":"gpt-4o-mini"}`, "\ufeff" + dear} {
		resp, b, _ := send(t, site+"/v1/chat/completions", body)
		if resp.StatusCode != 400 || !strings.Contains(b, `"code":"invalid_request_body"`) {
			var answer struct{ Model string }
			_ = json.Unmarshal([]byte(b), &answer)
			t.Errorf("%.20q…: %d, the upstream served %q, priced by the catch-all; want 400 invalid_request_body", body[len(body)-20:], resp.StatusCode, answer.Model)
		}
	}
	// A request without a body (a list of models) is priced as before.
	resp, b, _ := send(t, site+"/v1/chat/completions", "")
	if strings.Contains(b, "invalid_request_body") {
		t.Errorf("an empty body: %d %s, want it priced by the catch-all, not refused as unreadable", resp.StatusCode, b)
	}
}

// TestCostAdminReadLogsNoKey: reading what a key has left through the
// admin API names the key in the query; Caddy's admin logger writes the
// request's URI, and with the log format the examples use the key in it
// is scrubbed.
func TestCostAdminReadLogsNoKey(t *testing.T) {
	const secret = "sk-proj-AdminReadOfABudgetT3BlbkFJabcdefghij0123456789"
	logFile := filepath.Join(t.TempDir(), "default.log")
	zone := relName(t, "admin")
	site := testcaddy.Site(t)
	up := fakeai.Start(t)
	testcaddy.Load(t, testcaddy.GlobalLog(fmt.Sprintf("output file %s\n\t\tlevel DEBUG\n\t\tformat llm_redact", logFile), "")+
		fmt.Sprintf("%s {\n\tllm_ratelimit {\n%s\n\t\tzone %s {\n\t\t\tcost 1/d\n\t\t}\n\t}\n\treverse_proxy %s\n}\n", site, costPrices, zone, up.URL()))
	resp, err := http.Get(testcaddy.AdminURL() + "/llm/ratelimit/usage?zone=" + zone + "&key=" + url.QueryEscape("Bearer "+secret))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(body), secret) {
		t.Fatalf("usage: %d %s", resp.StatusCode, body)
	}
	harness.Eventually(t, "the admin request logged", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "/llm/ratelimit/usage")
	})
	if b, _ := os.ReadFile(logFile); strings.Contains(string(b), secret[8:30]) {
		t.Errorf("the default log holds the key of an admin read")
	}
}

// TestCostConcurrentSpendFitsBudget: 64 clients at once against one
// instance's budget that fits 20 answers: 20 answered, or 21 when a
// reservation fits before the answers ahead of it settle above their
// estimates; never more.
func TestCostConcurrentSpendFitsBudget(t *testing.T) {
	site, up := limitSite(t, costZone(t, "key static\ncost 0.44/d\nalgorithm fixed_window"))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range 64 {
		wg.Go(func() {
			resp, _, _ := spend(t, site, "/v1/chat/completions", "gpt-4o-mini", fmt.Sprint("racer ", i), false, "x-fake-usage", "20,50")
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if ok := statuses[200]; ok < 20 || ok > 21 || up.Calls() != ok {
		t.Errorf("statuses %v, %d upstream calls: want 20 or 21 answered, the rest refused", statuses, up.Calls())
	}
}

// TestCostClientLeavingMidStreamPays: a client that leaves a stream after
// its first event is charged what was streamed, not refunded.
func TestCostClientLeavingMidStreamPays(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "access.log")
	site, _ := proxySite(t, fmt.Sprintf("\tlog {\n\t\toutput file %s\n\t}\n%s", logFile, limitDirective(costZone(t, "cost 10/d\nalgorithm fixed_window"))))
	lines := func() int {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "\n")
	}
	before := costLeft(t, site, 1)
	body := `{"model":"gpt-4o-mini","stream":true,"max_tokens":4000,"messages":[{"role":"user","content":"a long story"}]}`
	req, _ := harness.NewPost(t.Context(), site+"/v1/chat/completions", body, siteKey(site,
		[]string{"x-fake-no-usage", "1", "x-fake-chunks", "50", "x-fake-size", "8000", "x-fake-delay", "100ms"})...)
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resp.Body.Read(make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // leave after the first bytes
	harness.Eventually(t, "the abandoned stream to end", func() bool { return lines() == 2 })
	if charged := before - costLeft(t, site, 2); charged <= 0 {
		t.Errorf("a client that left a stream after its first bytes was charged %d µ$, want what it was sent", charged)
	}
}

// TestCostThroughProviderRetry: behind llm_provider, a stream whose
// first attempt failed is charged once, its real usage: the retry sends
// the body the limiter rewrote to ask for the usage, and the answer that
// reached the client is the one settled.
func TestCostThroughProviderRetry(t *testing.T) {
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		if providerKey(r) == "sk-broken" {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_ratelimit {\n%s\n\t\tzone %s {\n\t\t\tcost 100/d\n\t\t\talgorithm fixed_window\n\t\t}\n\t}\n\tllm_provider {\n\t\tauth bearer sk-broken sk-good\n\t\tselect round_robin\n\t}\n\treverse_proxy %s\n}\n",
		site, hostilePrices, relName(t, "provider"), up.srv.URL))
	body := `{"model":"gpt-4o-mini","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"retried stream"}]}`
	for range 3 { // round robin: some start on the broken key
		charged, _ := chargeOf(t, site, body, "x-fake-usage", "10,50")
		if charged != 21_000 {
			t.Errorf("charged %d µ$, want the usage's 21000 once", charged)
		}
	}
	broken := 0
	for _, s := range up.requests() {
		if providerKey(&http.Request{Header: s.header}) == "sk-broken" {
			broken++
		}
		if !strings.Contains(s.body, `"include_usage":true`) {
			t.Errorf("an attempt went without asking for the usage: %s", s.body)
		}
	}
	if broken == 0 {
		t.Error("no attempt met the broken key: the test proves nothing")
	}
}

// TestCostUncappedOutputReserved: a request that sets no cap on its
// output reserves the model's max_output (default 4096 tokens) for it, so
// 32 such requests at once against a budget that fits one answer get one
// answer, not 32.
func TestCostUncappedOutputReserved(t *testing.T) {
	site, up := limitSite(t, costZone(t, "key static\ncost 0.25/d\nalgorithm fixed_window"))
	statuses := statusesOf(32, func(i int) int {
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"uncapped %d"}]}`, i)
		resp, _, _ := send(t, site+"/v1/chat/completions", body, "x-fake-usage", "10,500", "x-fake-delay", "200ms")
		return resp.StatusCode
	})
	// Each answer: 10 × 100 + 500 × 400 µ$ = $0.201; the budget fits one.
	if statuses[200] != 1 || up.Calls() != 1 {
		t.Errorf("statuses %v, %d upstream calls: want one answer against a budget of $0.25", statuses, up.Calls())
	}
}

// TestCostBudgetRecheckedAfterWaitingForASlot: 32 requests at once
// without max_tokens, whose model's max_output reserves little, against a
// budget that fits two answers, two in flight at a time: the others wait
// for a slot, their small reservations taken, while the answers ahead
// settle far above theirs. A request that waited is refused once the
// budget is spent, not answered on its early reservation: at most the
// two answers the budget fits, and one more a slot whose reservation
// fitted before the answers ahead of it settled.
func TestCostBudgetRecheckedAfterWaitingForASlot(t *testing.T) {
	site, up := limitSite(t, fmt.Sprintf("\tprices {\n\t\tgpt-4o-mini input 100 output 400 max_output 10\n\t}\n\tzone %s {\n\t\tkey static\n\t\tcost 0.50/d\n\t\talgorithm fixed_window\n\t\tconcurrency 2\n\t\tmax_wait 5s\n\t}", relName(t, "waited")))
	statuses := statusesOf(32, func(i int) int {
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"waiter %d"}]}`, i)
		resp, _, _ := send(t, site+"/v1/chat/completions", body, "x-fake-usage", "10,500", "x-fake-delay", "200ms")
		return resp.StatusCode
	})
	// Each answer: 10 × 100 + 500 × 400 µ$ = $0.201.
	if ok := statuses[200]; ok < 2 || ok > 4 || up.Calls() != ok {
		t.Errorf("statuses %v, %d upstream calls: want 2 to 4 answers against a budget of $0.50", statuses, up.Calls())
	}
}
