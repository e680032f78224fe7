package llmreq

import (
	"net/http/httptest"
	"testing"
)

func TestDialectOf(t *testing.T) {
	for _, tc := range []struct {
		target string
		header []string
		want   Dialect
	}{
		{"/v1/chat/completions", []string{"Authorization", "Bearer sk-x"}, OpenAI},
		{"/v1/responses", nil, OpenAI},
		{"/v1/messages", []string{"Authorization", "Bearer sk-ant-x"}, Anthropic},
		{"/anthropic/v1/messages", nil, Anthropic},
		{"/v1/messages/count_tokens", nil, Anthropic},
		{"/v1/chat/completions", []string{"Anthropic-Version", "2023-06-01"}, OpenAI},
		{"/v1/chat/completions", []string{"Authorization", "Bearer a", "X-Api-Key", "b"}, OpenAI},
		{"/proxy", []string{"Anthropic-Version", "2023-06-01"}, Anthropic},
		{"/proxy", []string{"X-Api-Key", "sk-ant-x"}, Anthropic},
		{"/openai/deployments/d/chat/completions", []string{"Api-Key", "k"}, OpenAI},
	} {
		if got := DialectOf(credentialRequest(tc.target, tc.header...)); got != tc.want {
			t.Errorf("%s %v: dialect %d, want %d", tc.target, tc.header, got, tc.want)
		}
	}
}

func TestAPIErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    *APIError
		target string
		header []string
		want   string
	}{
		{"openai", ErrConflictingCredentials, "/v1/chat/completions", nil,
			`{"error":{"message":"llmgate: the request carries two different credentials (Authorization, x-api-key, api-key, x-goog-api-key, ?key=); send one","type":"invalid_request_error","param":null,"code":"conflicting_credentials"}}`},
		{"anthropic", ErrConflictingCredentials, "/v1/messages", nil,
			`{"type":"error","error":{"type":"invalid_request_error","message":"llmgate: the request carries two different credentials (Authorization, x-api-key, api-key, x-goog-api-key, ?key=); send one"}}`},
		{"anthropic 429", &APIError{Status: 429, Type: "tokens", Code: "rate_limit_exceeded", Message: "m"}, "/v1/messages", nil,
			`{"type":"error","error":{"type":"rate_limit_error","message":"m"}}`},
		{"anthropic 413", &APIError{Status: 413, Type: "invalid_request_error", Message: "m"}, "/x", []string{"X-Api-Key", "k"},
			`{"type":"error","error":{"type":"request_too_large","message":"m"}}`},
		{"anthropic 503", &APIError{Status: 503, Type: "server_error", Message: "m"}, "/x", []string{"Anthropic-Version", "2023-06-01"},
			`{"type":"error","error":{"type":"api_error","message":"m"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.err.Write(rec, credentialRequest(tc.target, tc.header...))
			if rec.Code != tc.err.Status || rec.Body.String() != tc.want || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q %s\nwant %d %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.err.Status, tc.want)
			}
		})
	}
}
