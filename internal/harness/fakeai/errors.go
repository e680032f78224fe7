package fakeai

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// defaultRetryAfterMS is the wait a 429 asks for unless
// x-fake-retry-after-ms says otherwise.
const defaultRetryAfterMS = 1000

// openaiError is the OpenAI error body.
type openaiError struct {
	Error openaiErrorBody `json:"error"`
}

type openaiErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// anthropicError is the Anthropic error body.
type anthropicError struct {
	Type      string             `json:"type"`
	Error     anthropicErrorBody `json:"error"`
	RequestID string             `json:"request_id"`
}

type anthropicErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// fail answers an error with status and msg in the provider's shape.
func (c *call) fail(status int, msg string) {
	if c.anthropic {
		c.writeJSON(status, anthropicError{
			Type:      "error",
			Error:     anthropicErrorBody{Type: llmreq.AnthropicErrorType(status), Message: msg},
			RequestID: "req_fake_" + c.num(),
		})
		return
	}
	body := openaiErrorBody{Message: msg, Type: "invalid_request_error"}
	switch {
	case status == http.StatusUnauthorized:
		body.Code = ptr("invalid_api_key")
	case status == http.StatusTooManyRequests:
		body.Type, body.Code = "requests", ptr("rate_limit_exceeded")
	case status >= 500:
		body.Type = "server_error"
	}
	c.writeJSON(status, openaiError{Error: body})
}

func ptr[T any](v T) *T { return &v }

// forcedError answers the x-fake-status error. A 429 always carries
// retry-after and retry-after-ms (x-fake-retry-after-ms, default 1s); other
// errors carry them only when x-fake-retry-after-ms is given, so tests of
// 5xx retries need not wait for the SDK's backoff.
func (c *call) forcedError() {
	status := c.k.status
	retryMS := c.k.retryAfterMS
	if status == http.StatusTooManyRequests && retryMS < 0 {
		retryMS = defaultRetryAfterMS
	}
	if retryMS >= 0 {
		h := c.w.Header()
		h.Set("retry-after", strconv.Itoa((retryMS+999)/1000))
		h.Set("retry-after-ms", strconv.Itoa(retryMS))
	}
	if status == http.StatusTooManyRequests {
		c.rateLimited(time.Duration(retryMS) * time.Millisecond)
	}
	c.fail(status, c.forcedMessage(status, retryMS))
}

func (c *call) forcedMessage(status, retryMS int) string {
	switch {
	case status == http.StatusUnauthorized && c.anthropic:
		if c.k.echoKey {
			return "invalid x-api-key: " + c.credential()
		}
		return "invalid x-api-key"
	case status == http.StatusUnauthorized:
		if c.k.echoKey {
			return "Incorrect API key provided: " + c.credential() + ". You can find your API key at https://platform.openai.com/account/api-keys."
		}
		return "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
	case status == http.StatusTooManyRequests && c.anthropic:
		return "Number of requests has exceeded your per-minute rate limit. Please try again later."
	case status == http.StatusTooManyRequests:
		wait := time.Duration(retryMS) * time.Millisecond
		return fmt.Sprintf("Rate limit reached in organization org-fake on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.", wait)
	case status == 529 || status == http.StatusServiceUnavailable:
		if c.anthropic {
			return "Overloaded"
		}
		return "The engine is currently overloaded, please try again later."
	case status >= 500 && !c.anthropic:
		return "The server had an error while processing your request. Sorry about that!"
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "Error " + strconv.Itoa(status)
}

// credential is the API key the request carried, as providers echo it.
func (c *call) credential() string {
	h := c.r.Header
	if v := h.Get("Authorization"); v != "" {
		return strings.TrimSpace(strings.TrimPrefix(v, "Bearer "))
	}
	if v := h.Get("x-api-key"); v != "" {
		return v
	}
	return h.Get("api-key")
}

// rateLimitHeaders sets the provider's rate-limit headers on every answer,
// with plenty left.
func (c *call) rateLimitHeaders() {
	h := c.w.Header()
	if c.anthropic {
		h.Set("request-id", "req_fake_"+c.num())
		reset := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
		for _, kind := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
			limit := "4000"
			if kind != "requests" {
				limit = "400000"
			}
			h.Set("anthropic-ratelimit-"+kind+"-limit", limit)
			h.Set("anthropic-ratelimit-"+kind+"-remaining", limit)
			h.Set("anthropic-ratelimit-"+kind+"-reset", reset)
		}
		return
	}
	h.Set("x-request-id", "req_fake_"+c.num())
	h.Set("openai-organization", "org-fake")
	h.Set("Set-Cookie", "__cf_bm=fake"+c.num()+"; path=/; HttpOnly")
	h.Set("openai-version", "2020-10-01")
	h.Set("x-ratelimit-limit-requests", "10000")
	h.Set("x-ratelimit-remaining-requests", "9999")
	h.Set("x-ratelimit-reset-requests", "6ms")
	h.Set("x-ratelimit-limit-tokens", "30000000")
	h.Set("x-ratelimit-remaining-tokens", "29999000")
	h.Set("x-ratelimit-reset-tokens", "2ms")
}

// rateLimited marks the request budget as spent until reset.
func (c *call) rateLimited(reset time.Duration) {
	h := c.w.Header()
	if c.anthropic {
		h.Set("anthropic-ratelimit-requests-remaining", "0")
		h.Set("anthropic-ratelimit-requests-reset", time.Now().Add(reset).UTC().Format(time.RFC3339))
		return
	}
	h.Set("x-ratelimit-remaining-requests", "0")
	h.Set("x-ratelimit-reset-requests", reset.String())
}
