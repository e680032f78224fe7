package llmreq_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

func ExampleParse() {
	a, err := llmreq.Parse([]byte(`{"model":"gpt-4o","temperature":0.70,"messages":[{"role":"user","content":"Caf\u00e9?"}],"max_tokens":100}`))
	if err != nil {
		panic(err)
	}
	b, err := llmreq.Parse([]byte(`{
		"messages": [{"content": "Café?", "role": "user"}],
		"max_tokens": 1e2,
		"model": "gpt-4o",
		"temperature": 7e-1
	}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", a.Canonical)
	fmt.Println(bytes.Equal(a.Canonical, b.Canonical))
	fmt.Println(a.Model, a.Stream, a.MaxOutputTokens, a.TextBytes)

	// A cache key that leaves out the member naming the end user.
	h := sha256.New()
	if err := a.WriteCanonical(h, []string{"user"}); err != nil {
		panic(err)
	}
	fmt.Printf("key %x…\n", h.Sum(nil)[:4])
	// Output:
	// {"max_tokens":100,"messages":[{"content":"Café?","role":"user"}],"model":"gpt-4o","temperature":7e-1}
	// true
	// gpt-4o false 100 16
	// key 903ad098…
}

// Handlers of one request share one read and parse of its body through a
// Memo in the request's context.
func ExampleMemoOf() {
	countModel := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if q, err := llmreq.MemoOf(r, nil).Inspect(r, 1<<20); err == nil {
				fmt.Println("model:", q.Model)
			}
			next.ServeHTTP(w, r)
		})
	}
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the body is still there for the upstream
		fmt.Printf("upstream got: %s\n", body)
	})
	withMemo := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(llmreq.NewContext(r.Context(), new(llmreq.Memo))))
		})
	}
	h := withMemo(countModel(countModel(upstream)))

	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model": "gpt-4o-mini"}`))
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// model: gpt-4o-mini
	// model: gpt-4o-mini
	// upstream got: {"model": "gpt-4o-mini"}
}
