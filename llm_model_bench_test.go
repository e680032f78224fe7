package llmgate_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmgate "github.com/llmgate/caddy-llmgate"
)

// BenchmarkModelMatcher matches a 2 KiB chat request by model, as Caddy
// does for each request: fresh request variables, the body read and
// scanned once.
func BenchmarkModelMatcher(b *testing.B) {
	body := []byte(`{"model":"claude-3-5-haiku-latest","max_tokens":256,"messages":[{"role":"user","content":"` + strings.Repeat("lorem ipsum ", 170) + `"}]}`)
	m := llmgate.MatchModel{Patterns: []string{"gpt-4*", "o1*", "claude-*-haiku*"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequestWithContext(context.WithValue(context.Background(), caddyhttp.VarsCtxKey, map[string]any{}),
			http.MethodPost, "/v1/messages", bytes.NewReader(body))
		if ok, _ := m.MatchWithError(r); !ok {
			b.Fatal("no match")
		}
	}
}
