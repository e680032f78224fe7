package limiter

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestWriteRefusal(t *testing.T) {
	perKey := Status{Zone: "per_key", Kind: KindRequests, Limit: 60, Remaining: 0, Reset: time.Minute, Window: time.Minute}
	refused := func(retry time.Duration) *Ticket {
		return &Ticket{Zone: "per_key", Kind: KindRequests, RetryAfter: retry, statuses: []Status{perKey}}
	}
	tests := []struct {
		name   string
		ticket *Ticket
		style  HeaderStyle
		status int
		header map[string]string
		body   string
	}{
		{"openai", refused(1150 * time.Millisecond), HeadersOpenAI, http.StatusTooManyRequests, map[string]string{
			"Retry-After":                "2",
			"Retry-After-Ms":             "1150",
			"X-Ratelimit-Reset-Requests": "1m0s",
			"Ratelimit":                  "",
		}, `{"error":{"message":"llmgate: zone per_key: 60 requests per 1m0s, retry in 1.2s","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"ietf window ends with Retry-After", refused(1150 * time.Millisecond), HeadersIETF, http.StatusTooManyRequests, map[string]string{
			"Retry-After":                "2",
			"Ratelimit-Policy":           `"per_key";q=60;w=60`,
			"Ratelimit":                  `"per_key";r=0;t=2`,
			"X-Ratelimit-Reset-Requests": "",
		}, `{"error":{"message":"llmgate: zone per_key: 60 requests per 1m0s, retry in 1.2s","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"at least a second and a millisecond", refused(0), HeadersNone, http.StatusTooManyRequests, map[string]string{
			"Retry-After":                "1",
			"Retry-After-Ms":             "1",
			"X-Ratelimit-Reset-Requests": "",
		}, `{"error":{"message":"llmgate: zone per_key: 60 requests per 1m0s, retry in 1ms","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"one request", &Ticket{Zone: "z", Kind: KindConcurrency, RetryAfter: time.Second,
			statuses: []Status{{Zone: "z", Kind: KindConcurrency, Limit: 1}}}, HeadersNone, http.StatusTooManyRequests, nil,
			`{"error":{"message":"llmgate: zone z: 1 concurrent request, retry in 1s","type":"concurrency","param":null,"code":"rate_limit_exceeded"}}`},
		{"tokens", &Ticket{Zone: "gpt4", Kind: KindTokens, RetryAfter: 3890 * time.Millisecond,
			statuses: []Status{{Zone: "gpt4", Kind: KindTokens, Limit: 30000, Remaining: 0, Reset: time.Minute, Window: time.Minute}}}, HeadersOpenAI, http.StatusTooManyRequests, map[string]string{
			"Retry-After":                  "4",
			"Retry-After-Ms":               "3890",
			"X-Ratelimit-Limit-Tokens":     "30000",
			"X-Ratelimit-Remaining-Tokens": "0",
			"X-Ratelimit-Reset-Tokens":     "1m0s",
		}, `{"error":{"message":"llmgate: zone gpt4: 30000 tokens per 1m0s, retry in 3.9s","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`},
		{"one token", &Ticket{Zone: "z", Kind: KindTokens, RetryAfter: time.Second,
			statuses: []Status{{Zone: "z", Kind: KindTokens, Limit: 1, Window: time.Second}}}, HeadersNone, http.StatusTooManyRequests, nil,
			`{"error":{"message":"llmgate: zone z: 1 token per 1s, retry in 1s","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`},
		{"admitted writes nothing", ticketOf(perKey), HeadersOpenAI, http.StatusOK, map[string]string{"Retry-After": ""}, ""},
		{"a wait SDKs honour", refused(time.Minute), HeadersNone, http.StatusTooManyRequests, map[string]string{
			"Retry-After":    "60",
			"X-Should-Retry": "true",
		}, `{"error":{"message":"llmgate: zone per_key: 60 requests per 1m0s, retry in 1m0s","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"a wait longer than SDKs sleep", refused(3 * time.Hour), HeadersNone, http.StatusTooManyRequests, map[string]string{
			"Retry-After":    "10800",
			"X-Should-Retry": "false",
		}, `{"error":{"message":"llmgate: zone per_key: 60 requests per 1m0s, retry in 3h0m0s","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"anthropic", refused(1150 * time.Millisecond), HeadersAnthropic, http.StatusTooManyRequests, map[string]string{
			"Retry-After":                        "2",
			"Retry-After-Ms":                     "1150",
			"X-Should-Retry":                     "true",
			"Anthropic-Ratelimit-Requests-Limit": "60",
			"Anthropic-Ratelimit-Requests-Reset": "(a minute from now)",
			"X-Ratelimit-Reset-Requests":         "",
		}, `{"type":"error","error":{"type":"rate_limit_error","message":"llmgate: zone per_key: 60 requests per 1m0s, retry in 1.2s"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			target := "/v1/chat/completions"
			if tt.style == HeadersAnthropic {
				target = "/v1/messages"
			}
			start := time.Now()
			tt.ticket.WriteRefusal(rec, httptest.NewRequest(http.MethodPost, target, nil), tt.style)
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Fatalf("got %d %s\nwant %d %s", rec.Code, rec.Body, tt.status, tt.body)
			}
			for k, v := range tt.header {
				got := rec.Header().Get(k)
				if v == "(a minute from now)" {
					// RFC 3339, whole seconds, rounded up.
					reset, err := time.Parse(time.RFC3339, got)
					if err != nil || reset.Before(start.Add(time.Minute-time.Second)) || reset.After(time.Now().Add(time.Minute+time.Second)) {
						t.Errorf("%s = %q, want a minute from now", k, got)
					}
					continue
				}
				if got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
