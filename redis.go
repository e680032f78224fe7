package llmgate

import (
	"context"
	"fmt"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// RedisStorage is the configuration the Redis storage modules of
// llm_ratelimit and llm_cache share: where Redis is, and in which mode
// (one server, a cluster, a primary behind Sentinel); the module's name
// sets the mode.
type RedisStorage struct {
	// URL of Redis. One server (redis): redis://[user:password@]host
	// [:port][/db], rediss:// for TLS, or unix:///path/to/socket?db=N.
	// A cluster (redis_cluster): redis://[user:password@]host:port
	// ?addr=host2:port2&addr=… naming some of its nodes. Sentinel
	// (redis_sentinel): redis://[user:password@]sentinel:port/db
	// ?master_name=name&addr=sentinel2:port&password=… (the user info is
	// the sentinels', the password parameter the primary's). Query
	// options tune the client: pool_size (per node), dial_timeout,
	// read_timeout, write_timeout, pool_timeout, command_timeout (default
	// 500ms: the longest a request waits on Redis, its llm_ratelimit and
	// llm_cache together), key_prefix (default "llmgate:").
	// Placeholders such as {env.REDIS_URL} are expanded at load, which
	// keeps a password out of the config.
	URL string `json:"url,omitempty"`

	mode    redisclient.Mode
	client  *redisclient.Client
	poolKey string
}

// redisBacked is implemented by the storage modules that keep their
// state in Redis: their handlers give each request one Redis budget.
type redisBacked interface{ redisBacked() }

func (*RedisStorage) redisBacked() {}

// provision finds or makes the client of s.URL.
func (s *RedisStorage) provision(ctx caddy.Context) error {
	url := caddy.NewReplacer().ReplaceAll(s.URL, "")
	if url == "" {
		return fmt.Errorf("%s storage: missing url", s.mode)
	}
	routeRedisLogs(ctx)
	var err error
	if s.client, s.poolKey, err = redisClient(s.mode, url); err != nil {
		// The client's errors mask the password; the pool key is not
		// part of them.
		return fmt.Errorf("%s storage: %v", s.mode, err)
	}
	return nil
}

// cleanup releases this config's hold on the client.
func (s *RedisStorage) cleanup() error { return release(redisPool, s.poolKey) }

// UnmarshalCaddyfile reads `storage redis <url>` and its cluster and
// Sentinel twins (llmcaddyfile.ParseRedisStorage), for both handlers'
// Redis storage.
func (s *RedisStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) (err error) {
	s.URL, err = llmcaddyfile.ParseRedisStorage(d)
	return err
}

// routeRedisLogs sends go-redis's own messages (such as failed dials) to
// Caddy's log, sampled, instead of stderr. go-redis has one logger for the
// process, so the first config to use Redis sets it.
func routeRedisLogs(ctx caddy.Context) {
	redisLogOnce.Do(func() {
		redis.SetLogger(redisLogger{sampled(ctx.Logger().Named("redis"))})
	})
}

var redisLogOnce sync.Once

type redisLogger struct{ l *zap.Logger }

func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn(fmt.Sprintf(format, v...))
}
