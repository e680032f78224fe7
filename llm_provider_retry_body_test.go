package llmgate_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// retrySite loads a site with route's handlers before an upstream that
// answers its first call 429 and records what each call carried.
func retrySite(t *testing.T, route string) (site string, calls func() []string) {
	fake := fakeai.Start(t)
	var mu sync.Mutex
	var got []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, fmt.Sprintf("Content-Length %d, %d bytes read, err %v: %s", r.ContentLength, len(b), err, b))
		n := len(got)
		mu.Unlock()
		if n == 1 {
			limited(w, 60_000)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	site = testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\troute {\n%s\n\t}\n\treverse_proxy %s\n}\n", site, route, up.URL))
	return site, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// retryRoute is llm_provider before a token zone, in a route (the user's
// order), then after: handlers after the zone.
func retryRoute(t *testing.T, after string) string {
	return "\t\tllm_provider {\n\t\t\tauth bearer sk-a sk-b\n\t\t}\n" +
		fmt.Sprintf("\t\tllm_ratelimit {\n\t\t\tzone %s {\n\t\t\t\tkey static\n\t\t\t\ttokens 1000000/m\n\t\t\t}\n\t\t}\n", relName(t, "retry_tokens")) +
		after
}

// retryStream is a stream that does not ask for its usage: the token
// zone rewrites its body to ask for it.
const retryStream = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"retried"}]}`

// llm_provider before a token zone that rewrites a stream's body to ask
// for its usage, and a handler after the zone that reads the body (the
// cache, an llm_model matcher): the retry after a 429 reaches the
// upstream whole, with the length it has, and asks for the usage as the
// first attempt did.
func TestProviderRetryAfterStreamUsageRewrite(t *testing.T) {
	for name, after := range map[string]string{
		"cache":   "\t\tllm_cache {\n\t\t\tscope shared\n\t\t}\n",
		"matcher": "\t\t@gpt llm_model gpt-*\n\t\theader @gpt X-Gpt 1\n",
		"nothing": "",
	} {
		t.Run(name, func(t *testing.T) {
			site, calls := retrySite(t, retryRoute(t, after))
			resp, body := post(t, site+"/v1/chat/completions", retryStream)
			cs := calls()
			for i, c := range cs {
				t.Logf("upstream call %d: %s", i+1, c)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("a request retried after a 429 got %d %s, want 200", resp.StatusCode, body)
			}
			if len(cs) != 2 {
				t.Fatalf("%d upstream calls, want 2", len(cs))
			}
			for i, c := range cs {
				if !strings.Contains(c, `"include_usage":true`) || strings.Contains(c, "err unexpected") {
					t.Errorf("upstream call %d did not carry the whole body asking for the usage: %s", i+1, c)
				}
			}
		})
	}
}

// The same order, with the cache: a stream stored under the key of a
// request asking for the usage carries the usage.
func TestProviderRetryKeepsStreamUsageStored(t *testing.T) {
	site, _ := retrySite(t, retryRoute(t, "\t\tllm_cache {\n\t\t\tscope shared\n\t\t}\n"))
	if resp, body := post(t, site+"/v1/chat/completions", retryStream); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	asked := `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"retried"}]}`
	resp, got := post(t, site+"/v1/chat/completions", asked)
	if !strings.Contains(got, `"choices":[],`) {
		t.Errorf("a client that asked for the stream's usage got none (%d, Cache-Status %q)", resp.StatusCode, resp.Header.Get("Cache-Status"))
	}
}
