package cache_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/llmgate/caddy-llmgate/cache"
)

func ExampleCache_Middleware() {
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"choices":[{"message":{"content":"hi"}}]}`)
	})
	c, err := cache.New(cache.Config{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c.Middleware(upstream))
	defer srv.Close()

	for _, body := range []string{
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`,
		`{ "messages": [{"content":"hello","role":"user"}], "model": "gpt-4o-mini" }`,
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Header.Get("Cache-Status"))
	}
	// Output:
	// llmgate; fwd=miss
	// llmgate; hit; ttl=3599
}
