package limiter_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/llmgate/caddy-llmgate/limiter"
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
