package limiter_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/usage"
)

// Limit each API key to 2 requests per minute in front of a handler.
func ExampleLimiter_Middleware() {
	l, err := limiter.New([]limiter.Zone{{
		Name:     "per_key",
		Requests: limiter.Rate{Count: 2, Per: time.Minute},
	}}, limiter.Options{})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	byKey := func(r *http.Request) []string { return []string{r.Header.Get("Authorization")} }
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(l.Middleware(byKey, limiter.HeadersOpenAI)(api))
	defer srv.Close()

	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer sk-example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		res.Body.Close()
		fmt.Printf("%d remaining=%s retry-after=%q\n", res.StatusCode,
			res.Header.Get("X-Ratelimit-Remaining-Requests"), res.Header.Get("Retry-After"))
	}
	// Output:
	// 200 remaining=1 retry-after=""
	// 200 remaining=0 retry-after=""
	// 429 remaining=0 retry-after="30"
}

// Limit each API key to 1000 LLM tokens a day: reserve what a request may
// spend, then settle what its answer says it spent.
func ExampleLimiter_AdmitSpend() {
	l, err := limiter.New([]limiter.Zone{{
		Name:   "daily",
		Tokens: limiter.Rate{Count: 1000, Per: 24 * time.Hour},
	}}, limiter.Options{})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	// The upstream's answer to every request: 120 tokens spent.
	answer := []byte(`{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":100,"total_tokens":120}}`)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := llmreq.Read(r, 1<<20)
		var estimate int64
		if err == nil {
			req, _ := llmreq.Scan(body) // a body that is not JSON counts every byte
			estimate = usage.Estimate(req)
		}
		t, err := l.AdmitSpend(r.Context(), []string{r.Header.Get("Authorization")}, limiter.Spend{Tokens: estimate})
		if err != nil {
			http.Error(w, "limiter store down", http.StatusServiceUnavailable)
			return
		}
		if !t.Allowed {
			t.WriteRefusal(w, r, limiter.HeadersOpenAI)
			return
		}
		defer t.Done()
		t.SetHeaders(w.Header(), limiter.HeadersOpenAI)
		_, _ = w.Write(answer)
		if u, ok := usage.FromJSON(answer); ok {
			_ = t.Settle(r.Context(), limiter.Spend{Tokens: u.Total})
		} // else the estimate stays charged
	})

	for _, maxTokens := range []string{"300", "300", "900"} {
		body := `{"model":"gpt-4o-mini","max_tokens":` + maxTokens + `,"messages":[{"role":"user","content":"Tell me a joke"}]}`
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-example")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		fmt.Printf("%d remaining-tokens=%s retry-after=%q\n", rec.Code,
			rec.Header().Get("X-Ratelimit-Remaining-Tokens"), rec.Header().Get("Retry-After"))
	}
	// Each request reserves 8 tokens of prompt and its max_tokens, and is
	// settled at 120: 1000-308 = 692 left at the first answer, 880 after
	// it, 572 at the second. The third reserves 908 and finds 760.

	// Output:
	// 200 remaining-tokens=692 retry-after=""
	// 200 remaining-tokens=572 retry-after=""
	// 429 remaining-tokens=0 retry-after="12788"
}
