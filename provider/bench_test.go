package provider

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// answerOK is a next that answers as an upstream would: headers, a 200, a
// small JSON body.
type answerOK struct{}

func (answerOK) ServeHTTP(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Ratelimit-Remaining-Requests", "9999")
	w.Header().Set("X-Ratelimit-Reset-Requests", "6ms")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte(`{"id":"chatcmpl-1","choices":[]}`))
	return err
}

// BenchmarkServe is the handler's own work on the happy path, the first
// key answering: the body kept for a retry, the caller's credential
// removed, the key set, the attempt's headers, what the answer says of
// the key.
func BenchmarkServe(b *testing.B) {
	p, _ := NewPool([]string{"sk-one", "sk-two", "sk-three"}, LeastBusy, nil)
	h := &Handler{Pool: p, Auth: Bearer}
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("hello ", 100) + `"}]}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer sk-caller")
		w := httptest.NewRecorder()
		if err := h.Serve(w, r, answerOK{}); err != nil || w.Code != 200 {
			b.Fatal(err, w.Code)
		}
	}
}

// BenchmarkServeBaseline is BenchmarkServe's request and recorder with
// next alone, to tell the handler's share.
func BenchmarkServeBaseline(b *testing.B) {
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("hello ", 100) + `"}]}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer sk-caller")
		w := httptest.NewRecorder()
		if err := (answerOK{}).ServeHTTP(w, r); err != nil {
			b.Fatal(err)
		}
	}
}
