package redisstore_test

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/limiter/redisstore"
)

// Share a limit of 60 requests a minute per key among every gateway
// instance that uses one Redis.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ReadTimeout: 200 * time.Millisecond})
	defer rdb.Close()

	l, err := limiter.New([]limiter.Zone{{
		Name:     "per_key",
		Requests: limiter.Rate{Count: 60, Per: time.Minute},
		Buckets:  redisstore.New(rdb, redisstore.Options{}),
	}, {
		Name:      "daily",
		Requests:  limiter.Rate{Count: 10_000, Per: 24 * time.Hour},
		Algorithm: limiter.FixedWindow,
		Windows:   redisstore.NewWindowStore(rdb, redisstore.Options{}),
	}}, limiter.Options{})
	if err != nil {
		panic(err)
	}
	defer l.Close()
}
