package llmgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// post sends body to url as harness.Post does, with the site's own
// credential unless the header pairs give one. That credential is unique
// to the site (each test gets a fresh port), because cache entries
// outlive a config, as they should, and must not leak from one test into
// the next.
func post(t *testing.T, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	return harness.Post(t, url, body, siteKey(url, header)...)
}

// send is post for answers that may be cut short: it returns what arrived
// and the error that ended the body.
func send(t *testing.T, url, body string, header ...string) (*http.Response, string, error) {
	t.Helper()
	req, err := harness.NewPost(context.Background(), url, body, siteKey(url, header)...)
	if err != nil {
		t.Fatal(err)
	}
	resp, b, err := harness.Send(req, nil)
	if resp == nil {
		t.Fatal(err)
	}
	return resp, b, err
}

// siteKey puts the site's own credential before the header pairs unless
// they give an Authorization of their own.
func siteKey(url string, header []string) []string {
	for i := 0; i+1 < len(header); i += 2 {
		if http.CanonicalHeaderKey(header[i]) == "Authorization" {
			return header
		}
	}
	u, err := neturl.Parse(url)
	if err != nil {
		return header
	}
	return append([]string{"Authorization", "Bearer sk-test-" + u.Host}, header...)
}

// statusesOf runs do(i) for i in [0, n) all at once and counts the
// statuses they return.
func statusesOf(n int, do func(i int) int) map[int]int {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range n {
		wg.Go(func() {
			s := do(i)
			mu.Lock()
			statuses[s]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return statuses
}

// proxySite loads a Caddy site of the given directives in front of a
// fresh fake upstream.
func proxySite(t *testing.T, directives string) (site string, up *fakeai.Server) {
	t.Helper()
	up = fakeai.Start(t)
	site = testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+proxyConfig(site, directives, up))
	return site, up
}

// proxyConfig is the Caddyfile of site: the directives, then a
// reverse_proxy to up.
func proxyConfig(site, directives string, up *fakeai.Server) string {
	return fmt.Sprintf("%s {\n%s\n\treverse_proxy %s\n}\n", site, directives, up.URL())
}

// cacheSite loads a Caddy site with llm_cache (options inside its block)
// in front of a fresh fake upstream.
func cacheSite(t *testing.T, options string) (site string, up *fakeai.Server) {
	t.Helper()
	return proxySite(t, "\tllm_cache {\n"+options+"\n\t}")
}

// limitSite loads a Caddy site with an llm_ratelimit block (its body given)
// in front of a fresh fake upstream. Zone state outlives a config, as it
// should across reloads, so each test names its zones after its own site.
func limitSite(t *testing.T, block string) (site string, up *fakeai.Server) {
	t.Helper()
	return proxySite(t, limitDirective(block))
}

// limitConfig is limitSite's Caddyfile, for a reload to load again.
func limitConfig(site, block string, up *fakeai.Server) string {
	return proxyConfig(site, limitDirective(block), up)
}

// limitDirective is an llm_ratelimit directive of the given body.
func limitDirective(block string) string { return "\tllm_ratelimit {\n" + block + "\n\t}" }

// sdk returns the official OpenAI client pointed at a Caddy site.
func sdk(site, key string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(site + "/v1/"),
		option.WithAPIKey(key),
	}, opts...)...)
}

// chat is a small chat completion request.
func chat(model, prompt string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	}
}

// openAIError is the error OpenAI's SDKs parse, inside {"error": …}.
type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// parseOpenAIError reads an answer llmgate gave in OpenAI's error shape,
// and fails the test when it is not one: JSON, with "param":null.
func parseOpenAIError(t *testing.T, resp *http.Response, body string) openAIError {
	t.Helper()
	var e struct {
		Error openAIError `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("not an error in OpenAI's shape (%v, Content-Type %q): %s", err, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(body, `"param":null`) {
		t.Errorf("param must be null: %s", body)
	}
	return e.Error
}

// assertConflictRefused checks the answer to a request with two different
// credentials: 400 in OpenAI's error shape.
func assertConflictRefused(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
	}
	if e := parseOpenAIError(t, resp, body); e.Type != "invalid_request_error" || e.Code != "conflicting_credentials" ||
		!strings.Contains(e.Message, "two different credentials") {
		t.Fatalf("refusal body %s", body)
	}
}
