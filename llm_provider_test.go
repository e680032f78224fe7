package llmgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3/option"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/nodesdk"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/provider"
)

// keyedUpstream is the fake upstream behind a key pool: it answers as
// fakeai does, unless rule, given the provider key a request carries and
// how many requests that key made, answers first. It records every
// request's credentials.
type keyedUpstream struct {
	fake *fakeai.Server
	srv  *httptest.Server
	rule func(key string, n int, w http.ResponseWriter) bool

	mu    sync.Mutex
	calls map[string]int
	creds [][]string // per request: every credential it carried
}

func startKeyed(t *testing.T, rule func(key string, n int, w http.ResponseWriter) bool) *keyedUpstream {
	u := &keyedUpstream{fake: fakeai.Start(t), rule: rule, calls: map[string]int{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// providerKey is the provider credential of r, as any style sends it.
func providerKey(r *http.Request) string {
	switch {
	case r.Header.Get("Authorization") != "":
		return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	case r.Header.Get("X-Api-Key") != "":
		return r.Header.Get("X-Api-Key")
	}
	return r.URL.Query().Get("key")
}

func (u *keyedUpstream) serve(w http.ResponseWriter, r *http.Request) {
	var creds []string
	for _, name := range []string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key"} {
		for _, v := range r.Header.Values(name) {
			creds = append(creds, name+": "+v)
		}
	}
	for _, v := range r.URL.Query()["key"] {
		creds = append(creds, "?key="+v)
	}
	key := providerKey(r)
	u.mu.Lock()
	u.calls[key]++
	n := u.calls[key]
	u.creds = append(u.creds, creds)
	u.mu.Unlock()
	if u.rule != nil && u.rule(key, n, w) {
		return
	}
	u.fake.Handler().ServeHTTP(w, r)
}

func (u *keyedUpstream) callsOf(key string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[key]
}

// limited answers 429 as OpenAI does, with retry-after and retry-after-ms.
func limited(w http.ResponseWriter, retryAfterMS int) {
	w.Header().Set("Retry-After", fmt.Sprint((retryAfterMS+999)/1000))
	w.Header().Set("Retry-After-Ms", fmt.Sprint(retryAfterMS))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
}

// providerSite loads a site whose llm_provider block (its body given)
// sends to up.
func providerSite(t *testing.T, up *keyedUpstream, block string) string {
	t.Helper()
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_provider {\n%s\n\t}\n\treverse_proxy %s\n}\n", site, block, up.srv.URL))
	return site
}

func promptBody(prompt string) string {
	return `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + prompt + `"}]}`
}

// TestProviderAbsorbs429: one key of three always answers 429 with
// Retry-After: 20. Every request is answered 200, the limited key is
// asked once in those 20 s, and the client never sees a 429.
func TestProviderAbsorbs429(t *testing.T) {
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		if key == "sk-limited" {
			limited(w, 20_000)
			return true
		}
		return false
	})
	site := providerSite(t, up, "auth bearer sk-one sk-limited sk-two")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 50 {
		wg.Go(func() {
			resp, _ := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("absorb ", i)))
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 50 {
		t.Errorf("statuses %v, want 50 × 200", statuses)
	}
	// Requests that picked the limited key before its first 429 was
	// learnt may each have asked it once: at most the requests in flight
	// then. Afterwards, none.
	first := up.callsOf("sk-limited")
	for i := range 10 {
		post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("after ", i)))
	}
	if first < 1 || up.callsOf("sk-limited") != first {
		t.Errorf("the limited key was asked %d times, then %d: want it left alone after its 429", first, up.callsOf("sk-limited"))
	}
}

// TestProviderServerErrors: requests succeed on the other keys when one
// answers 500; with max_tries 1 the 500 comes back unchanged.
func TestProviderServerErrors(t *testing.T) {
	failing := func(key string, n int, w http.ResponseWriter) bool {
		if key == "sk-broken" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":{"message":"upstream broke","type":"server_error","param":null,"code":null}}`)
			return true
		}
		return false
	}
	up := startKeyed(t, failing)
	site := providerSite(t, up, "auth bearer sk-broken sk-fine")
	for i := range 6 {
		if resp, body := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("retry ", i))); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if up.callsOf("sk-broken") == 0 {
		t.Error("the broken key was never tried: the test proves nothing")
	}

	up = startKeyed(t, failing)
	site = providerSite(t, up, "auth bearer sk-broken\nmax_tries 1")
	resp, body := post(t, site+"/v1/chat/completions", promptBody("once"))
	if resp.StatusCode != 500 || body != `{"error":{"message":"upstream broke","type":"server_error","param":null,"code":null}}` {
		t.Errorf("max_tries 1: %d %s, want the upstream's 500 unchanged", resp.StatusCode, body)
	}
}

// TestProviderEveryKeyLimited: with every key sitting out and no
// max_wait, the client gets a 429 in its API's shape whose retry-after-ms
// is the earliest key's reset; with max_wait, a key back within it
// answers.
func TestProviderEveryKeyLimited(t *testing.T) {
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		limited(w, map[string]int{"sk-a": 30_000, "sk-b": 8_000}[key])
		return true
	})
	site := providerSite(t, up, "auth bearer sk-a sk-b")
	resp, body := post(t, site+"/v1/chat/completions", promptBody("all limited"))
	ms := resp.Header.Get("Retry-After-Ms")
	if resp.StatusCode != 429 || !strings.Contains(body, `"code":"rate_limit_exceeded"`) || len(ms) != 4 || ms > "8000" || ms < "7000" {
		t.Errorf("every key limited: %d retry-after-ms %q %s; want 429 after about 8000 ms", resp.StatusCode, ms, body)
	}
	resp, body = post(t, site+"/v1/messages", `{"model":"claude-3-5-haiku-latest","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 429 || !strings.Contains(body, `"type":"rate_limit_error"`) {
		t.Errorf("Anthropic's API: %d %s, want its 429", resp.StatusCode, body)
	}

	// sk-a answers its first request 429 with a second's wait, then 200;
	// sk-b stays limited.
	up = startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		switch {
		case key == "sk-b":
			limited(w, 60_000)
			return true
		case n == 1:
			limited(w, 1_000)
			return true
		}
		return false
	})
	site = providerSite(t, up, "auth bearer sk-a sk-b\nmax_wait 2s")
	start := time.Now()
	resp, body = post(t, site+"/v1/chat/completions", promptBody("wait for a key"))
	if took := time.Since(start); resp.StatusCode != 200 || took < 900*time.Millisecond {
		t.Errorf("max_wait 2s, a key back after 1 s: %d after %s (%s), want 200 after about 1 s", resp.StatusCode, took, body)
	}
}

// TestProviderStreamNotRetried: a stream the upstream cuts after its
// first event has gone to the client: it is not sent again.
func TestProviderStreamNotRetried(t *testing.T) {
	up := startKeyed(t, nil)
	site := providerSite(t, up, "auth bearer sk-one sk-two")
	stream := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"cut"}]}`
	resp, body, _ := send(t, site+"/v1/chat/completions", stream, "x-fake-die-after", "1")
	if resp.StatusCode != 200 || !strings.Contains(body, "data:") || strings.Contains(body, "[DONE]") {
		t.Fatalf("cut stream: %d %q", resp.StatusCode, body)
	}
	if n := up.callsOf("sk-one") + up.callsOf("sk-two"); n != 1 {
		t.Errorf("the upstream was asked %d times, want once", n)
	}
}

// TestProviderCredentials: the upstream never receives a caller's
// credential, and every attempt carries exactly one provider credential,
// in the style configured.
func TestProviderCredentials(t *testing.T) {
	for _, tc := range []struct{ auth, want string }{
		{"bearer", "Authorization: Bearer sk-provider"},
		{"x-api-key", "X-Api-Key: sk-provider"},
		{"api-key", "Api-Key: sk-provider"},
		{"query", "?key=sk-provider"},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
				if n == 1 { // every first attempt is retried: two attempts to check
					limited(w, 1)
					return true
				}
				return false
			})
			site := providerSite(t, up, "auth "+tc.auth+" sk-provider\nmax_wait 1s")
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost,
				site+"/v1/chat/completions?key=caller-query&KEY=caller-upper", strings.NewReader(promptBody("creds")))
			for name, v := range map[string]string{"Authorization": "Bearer caller-bearer", "X-Api-Key": "caller-x", "Api-Key": "caller-azure", "X-Goog-Api-Key": "caller-google"} {
				req.Header.Add(name, v)
			}
			req.Header.Add("authorization", "Bearer caller-second")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			up.mu.Lock()
			defer up.mu.Unlock()
			if len(up.creds) < 2 {
				t.Fatalf("%d attempts (status %d), want 2", len(up.creds), resp.StatusCode)
			}
			for i, creds := range up.creds {
				if len(creds) != 1 || creds[0] != tc.want {
					t.Errorf("attempt %d carried %q, want only %q", i+1, creds, tc.want)
				}
			}
		})
	}
}

// TestProviderBehindCacheAndLimits: identical requests coalesced by
// llm_cache all get the leader's final answer, not its first 429; the
// limiter settles the retried request once, to the answer the client got.
func TestProviderBehindCacheAndLimits(t *testing.T) {
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		if key == "sk-a" {
			limited(w, 60_000)
			return true
		}
		return false
	})
	site := testcaddy.Site(t)
	zone := relName(t, "provider_tokens")
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	llm_ratelimit {
		zone %s {
			tokens 100000/h
			algorithm fixed_window
		}
	}
	llm_cache
	llm_provider {
		auth bearer sk-a sk-b
		select round_robin
	}
	reverse_proxy %s
}
`, site, zone, up.srv.URL))
	// The first request finds sk-a (round robin starts there or after);
	// make sure it does by asking until sk-a has answered once.
	body := promptBody("coalesced")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 8 {
		wg.Go(func() {
			resp, _ := post(t, site+"/v1/chat/completions", body, "x-fake-delay", "300ms", "x-fake-usage", "100,50")
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 8 {
		t.Errorf("coalesced requests got %v, want 8 × 200", statuses)
	}
	if n := up.callsOf("sk-b"); n != 1 {
		t.Errorf("sk-b answered %d times, want once for all: the followers share the leader's answer", n)
	}
	// One charge of 150 tokens for the retried request: the next request's
	// reservation leaves 100000 - 150 - its own estimate.
	resp, _ := post(t, site+"/v1/chat/completions", promptBody("after"), "x-fake-usage", "1,1")
	left := resp.Header.Get("X-Ratelimit-Remaining-Tokens")
	if left < "99800" || left > "99850" || len(left) != 5 {
		t.Errorf("tokens remaining %s, want 100000 less one charge of 150 and a small reservation", left)
	}
}

// TestProviderSkipsSpentKeys: a key whose answers say its requests are
// spent is passed over until its reset, before it ever answers 429.
func TestProviderSkipsSpentKeys(t *testing.T) {
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		if key != "sk-spent" {
			return false
		}
		w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
		w.Header().Set("X-Ratelimit-Reset-Requests", "1m0s")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"chatcmpl-spent","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
		return true
	})
	site := providerSite(t, up, "auth bearer sk-spent sk-fresh\nselect round_robin")
	for i := range 10 {
		if resp, body := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("spent ", i))); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if n := up.callsOf("sk-spent"); n != 1 {
		t.Errorf("the spent key was asked %d times, want once: its answer said it had nothing left", n)
	}
}

// TestProviderSDKsSeePlain200s: the OpenAI SDKs, Go's with its retries
// off and Node's, get plain 200s through a provider that answers 429 on
// one key in three; every answer llmgate sent was a 200.
func TestProviderSDKsSeePlain200s(t *testing.T) {
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		if key == "sk-3" {
			limited(w, 1) // back at once: it keeps being picked, and refusing
			return true
		}
		return false
	})
	logFile := filepath.Join(t.TempDir(), "access.log")
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	log {
		output file %s
	}
	log_append provider_key {http.llm.provider.key}
	log_append provider_tries {http.llm.provider.tries}
	llm_provider {
		auth bearer sk-1 sk-2 sk-3
		select round_robin
	}
	reverse_proxy %s
}
`, site, logFile, up.srv.URL))
	limitedSeries := `llmgate_provider_attempts_total{key="` + provider.Fingerprint("sk-3") + `",result="limited"}`
	before := testcaddy.Metrics(t)[limitedSeries]
	client := sdk(site, "sk-caller", option.WithMaxRetries(0))
	for i := range 9 {
		if _, err := client.Chat.Completions.New(context.Background(), chat("gpt-4o-mini", fmt.Sprint("go sdk ", i))); err != nil {
			t.Fatalf("Go SDK call %d: %v", i, err)
		}
	}
	for _, r := range nodesdk.Run(t, nodesdk.Job{SDK: "openai", BaseURL: site, APIKey: "sk-caller", Calls: 9, Prompt: "node sdk"}) {
		if !r.OK {
			t.Errorf("Node SDK call: %+v", r)
		}
	}
	if up.callsOf("sk-3") == 0 {
		t.Error("the limited key was never asked: the test proves nothing")
	}
	var answers []int
	retried := 0
	harness.Eventually(t, "18 access log lines", func() bool {
		b, _ := os.ReadFile(logFile)
		answers, retried = answers[:0], 0
		for line := range strings.Lines(string(b)) {
			var entry struct {
				Status int
				Key    string `json:"provider_key"`
				Tries  int    `json:"provider_tries"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil {
				answers = append(answers, entry.Status)
				if entry.Tries == 2 && entry.Key != provider.Fingerprint("sk-3") {
					retried++
				}
			}
		}
		return len(answers) >= 18
	})
	for _, s := range answers {
		if s != 200 {
			t.Errorf("llmgate answered %v, want only 200s", answers)
			break
		}
	}
	limitedNow := testcaddy.Metrics(t)[limitedSeries] - before
	if retried == 0 || float64(retried) != limitedNow {
		t.Errorf("%d answers logged after 2 tries, %v limited attempts counted: want as many, and some", retried, limitedNow)
	}
}

// TestProviderHealthSharedThroughRedis: with storage redis, a key one
// instance saw answer 429 is left alone by the other: by one that starts
// later (it reads the cooldowns stored) and by one running (it is told).
func TestProviderHealthSharedThroughRedis(t *testing.T) {
	rs := testredis.Start(t)
	var flip atomic.Bool
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		if key == "sk-a" || key == "sk-c" && flip.Load() {
			limited(w, 60_000)
			return true
		}
		return false
	})
	body := fmt.Sprintf("\tllm_provider {\n\t\tauth bearer sk-a sk-b sk-c\n\t\tselect round_robin\n\t\tstorage redis %s\n\t}\n\treverse_proxy %s", rs.URL(), up.srv.URL)
	config := func(site string) string { return fmt.Sprintf("%s {\n%s\n}\n", site, body) }
	// until sends requests to site until key has been asked once.
	until := func(site, key string) {
		t.Helper()
		for i := 0; up.callsOf(key) == 0; i++ {
			if i == 10 {
				t.Fatalf("%s never asked", key)
			}
			if resp, b := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("find ", key, i))); resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		}
	}
	// batch sends n requests to site and reports how often key was asked.
	batch := func(site, key string, n int) int {
		before := up.callsOf(key)
		for i := range n {
			if resp, b := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("batch ", i))); resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		}
		return up.callsOf(key) - before
	}

	site1 := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+config(site1))
	until(site1, "sk-a")
	site2 := testcaddy.Site(t)
	testcaddy.Process(t, processGlobal+config(site2), site2)
	if n := batch(site2, "sk-a", 9); n != 0 {
		t.Errorf("an instance started after sk-a's 429 asked it %d times", n)
	}

	flip.Store(true)
	until(site1, "sk-c")
	harness.Eventually(t, "the running instance leaves sk-c alone", func() bool { return batch(site2, "sk-c", 6) == 0 })
}
