package llmgate

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// RedisStorage is the configuration the Redis storage modules of
// llm_ratelimit and llm_cache share: where the server is.
type RedisStorage struct {
	// URL of the server: redis://[user:password@]host[:port][/db],
	// rediss:// for TLS, or unix:///path/to/socket?db=N. Query options
	// tune the client: pool_size, dial_timeout, read_timeout,
	// write_timeout, pool_timeout, command_timeout (default 500ms: the
	// longest a request waits on Redis, its llm_ratelimit and llm_cache
	// together), key_prefix (default "llmgate:").
	// Placeholders such as {env.REDIS_URL} are expanded at load, which
	// keeps a password out of the config.
	URL string `json:"url,omitempty"`

	client  *redisclient.Client
	poolKey string
}

// redisBacked is implemented by the storage modules that keep their
// state in Redis: their handlers give each request one Redis budget.
type redisBacked interface{ redisBacked() }

func (*RedisStorage) redisBacked() {}

// withRedisBudget gives r the Redis time budget that every handler's
// stores share (see redisclient.WithBudget): with llm_ratelimit and
// llm_cache both on a stalled Redis, a request waits command_timeout in
// all, not command_timeout in each.
func withRedisBudget(r *http.Request) *http.Request {
	ctx := redisclient.WithBudget(r.Context())
	if ctx == r.Context() {
		return r
	}
	return r.WithContext(ctx)
}

// redisClients shares one connection pool per server among every module
// and config that use it; a reload keeps the connections.
var redisClients = caddy.NewUsagePool()

type pooledRedis struct{ *redisclient.Client }

func (p pooledRedis) Destruct() error { return p.Close() }

// provision finds or makes the client of s.URL.
func (s *RedisStorage) provision(ctx caddy.Context) error {
	url := caddy.NewReplacer().ReplaceAll(s.URL, "")
	if url == "" {
		return fmt.Errorf("redis storage: missing url")
	}
	routeRedisLogs(ctx)
	s.poolKey = "redis." + url
	v, _, err := redisClients.LoadOrNew(s.poolKey, func() (caddy.Destructor, error) {
		c, err := redisclient.New(url, redisclient.Options{})
		return pooledRedis{c}, err
	})
	if err != nil {
		// The client's errors mask the password; the pool key is not
		// part of them.
		return fmt.Errorf("redis storage: %v", err)
	}
	s.client = v.(pooledRedis).Client
	return nil
}

// cleanup releases this config's hold on the client.
func (s *RedisStorage) cleanup() error {
	if s.client == nil {
		return nil
	}
	_, err := redisClients.Delete(s.poolKey)
	return err
}

// unmarshal reads `storage redis <url>`.
func (s *RedisStorage) unmarshal(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if !d.NextArg() {
		return d.Errf("redis: missing url, e.g. redis://127.0.0.1:6379/0")
	}
	s.URL = d.Val()
	if d.NextArg() {
		return d.Errf("redis: unexpected argument %q", d.Val())
	}
	// Check the URL now, so a bad one fails `caddy adapt` with its line.
	// One holding placeholders is checked at load.
	if hasPlaceholder(s.URL) {
		return nil
	}
	c, err := redisclient.New(s.URL, redisclient.Options{})
	if err != nil {
		return d.Errf("redis: %v", err)
	}
	return c.Close()
}

func hasPlaceholder(s string) bool { return strings.Contains(s, "{") }

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
