package llmgate_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// anthropicError is Anthropic's error shape.
type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

const messagesBody = `{"model":"claude-3-5-haiku-latest","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`

// TestRateLimitAnthropicDialect: a request in Anthropic's dialect is
// answered in it: Anthropic's rate-limit headers on admitted answers, its
// error shape on refusals, as the Anthropic SDKs parse them; OpenAI
// requests keep OpenAI's. x-should-retry tells an SDK whether the wait is
// one it honours.
func TestRateLimitAnthropicDialect(t *testing.T) {
	port := harness.FreePort(t)
	site, _ := limitSite(t, fmt.Sprintf(`zone hourly_%d {
			match path /v1/messages
			requests 1/h
			algorithm fixed_window
		}
		zone second_%d {
			match path /v1/chat/completions
			requests 1/s
		}`, port, port))
	anthropic := []string{"Authorization", "", "X-Api-Key", "sk-ant-api03-dialect-" + site, "Anthropic-Version", "2023-06-01"}

	resp, body := post(t, site+"/v1/messages", messagesBody, anthropic...)
	if resp.StatusCode != 200 {
		t.Fatalf("first request: %d %s", resp.StatusCode, body)
	}
	reset, err := time.Parse(time.RFC3339, resp.Header.Get("Anthropic-Ratelimit-Requests-Reset"))
	if resp.Header.Get("Anthropic-Ratelimit-Requests-Limit") != "1" || resp.Header.Get("Anthropic-Ratelimit-Requests-Remaining") != "0" ||
		err != nil || reset.Before(time.Now()) || reset.After(time.Now().Add(time.Hour+time.Second)) {
		t.Errorf("admitted answer's headers %v", resp.Header)
	}
	if resp.Header.Get("X-Ratelimit-Limit-Requests") != "" {
		t.Errorf("an Anthropic answer carries OpenAI's headers: %v", resp.Header)
	}

	resp, body = post(t, site+"/v1/messages", messagesBody, anthropic...)
	var e anthropicError
	if resp.StatusCode != http.StatusTooManyRequests || json.Unmarshal([]byte(body), &e) != nil ||
		e.Type != "error" || e.Error.Type != "rate_limit_error" || !strings.Contains(e.Error.Message, "1 request per 1h0m0s") {
		t.Fatalf("refusal: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Should-Retry") != "false" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("an hour's wait: x-should-retry %q, retry-after %q", resp.Header.Get("X-Should-Retry"), resp.Header.Get("Retry-After"))
	}

	// An OpenAI request of another caller, refused by the per-second zone.
	openai := []string{"Authorization", "Bearer sk-dialect-" + site}
	post(t, site+"/v1/chat/completions", chatBody, openai...)
	resp, body = post(t, site+"/v1/chat/completions", chatBody, openai...)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second OpenAI request: %d %s", resp.StatusCode, body)
	}
	oe := parseOpenAIError(t, resp, body)
	if oe.Code != "rate_limit_exceeded" || resp.Header.Get("X-Should-Retry") != "true" || resp.Header.Get("X-Ratelimit-Limit-Requests") == "" {
		t.Errorf("OpenAI refusal: %v %s", resp.Header, body)
	}
}

// TestRateLimitStoreDownAnthropic: with on_storage_error closed and the
// store gone, an Anthropic request gets the 503 in Anthropic's shape.
func TestRateLimitStoreDownAnthropic(t *testing.T) {
	site, up := limitSite(t, fmt.Sprintf(`zone down_%d {
			requests 10/s
		}
		storage redis redis://%s/0?dial_timeout=100ms
		on_storage_error closed`, harness.FreePort(t), testcaddy.DeadAddr(t)))
	resp, body := post(t, site+"/v1/messages", messagesBody, "Authorization", "", "X-Api-Key", "sk-ant-api03-down", "Anthropic-Version", "2023-06-01")
	var e anthropicError
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil || e.Error.Type != "api_error" {
		t.Fatalf("store down: %d %s", resp.StatusCode, body)
	}
	if n := up.CallsTo("/v1/messages"); n != 0 {
		t.Errorf("upstream called %d times", n)
	}
}
