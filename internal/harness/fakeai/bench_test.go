package fakeai

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var benchCases = []struct {
	name, path, body string
}{
	{"chat", "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is the capital of France?"}]}`},
	{"chat-stream", "/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is the capital of France?"}]}`},
	{"embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"What is the capital of France?"}`},
	{"responses-stream", "/v1/responses", `{"model":"gpt-4.1-mini","stream":true,"input":"What is the capital of France?"}`},
	{"messages-stream", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"What is the capital of France?"}]}`},
}

// BenchmarkHandler measures the fake's own cost per answer, without the
// network.
func BenchmarkHandler(b *testing.B) {
	srv := Start(b)
	srv.SetRecordLimit(0)
	h := srv.Handler()
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, bc.path, strings.NewReader(bc.body))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkSocket measures full round trips over a kept-alive loopback
// connection, as llmgate's benchmarks see the fake.
func BenchmarkSocket(b *testing.B) {
	srv := Start(b)
	srv.SetRecordLimit(0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := client.Post(srv.URL()+bc.path, "application/json", strings.NewReader(bc.body))
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("status %d, err %v", res.StatusCode, err)
				}
			}
		})
	}
}
