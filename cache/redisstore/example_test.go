package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/redisstore"
)

// Cache answers in Redis, shared by every gateway instance that uses it,
// and later drop those of one model.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: 1, ReadTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.Options{})

	c, err := cache.New(cache.Config{Store: store})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	upstream, _ := url.Parse("https://api.openai.com")
	http.Handle("/v1/", c.Middleware(httputil.NewSingleHostReverseProxy(upstream)))

	if err := store.PurgeModel(context.Background(), "gpt-4o"); err != nil {
		panic(err)
	}
}
