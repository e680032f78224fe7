package redisclient

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultKeyPrefix starts every key llmgate writes, so that its keys are
// told apart from others in a shared database.
const DefaultKeyPrefix = "llmgate:"

// Defaults of Options. A request to the gateway waits on Redis at most
// DefaultCommandTimeout in all (see WithBudget); the finer timeouts make a
// dead server fail faster.
const (
	DefaultPoolSize       = 16
	DefaultDialTimeout    = 250 * time.Millisecond
	DefaultReadTimeout    = 200 * time.Millisecond
	DefaultWriteTimeout   = 200 * time.Millisecond
	DefaultPoolTimeout    = 100 * time.Millisecond
	DefaultCommandTimeout = 500 * time.Millisecond
)

// Options tune a Client. A zero field takes its value from the URL's query
// (key_prefix, command_timeout and go-redis's own parameters such as
// pool_size or read_timeout) and failing that from the Default constants.
type Options struct {
	// PoolSize is the number of connections kept to the server.
	PoolSize int
	// DialTimeout bounds connecting to the server.
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for a reply.
	ReadTimeout time.Duration
	// WriteTimeout bounds sending a command.
	WriteTimeout time.Duration
	// PoolTimeout bounds waiting for a free connection when all are busy.
	PoolTimeout time.Duration
	// CommandTimeout bounds a command (or pipeline) from start to end,
	// retry included, and all the commands of a request whose context
	// has a budget (see WithBudget) together; negative means no bound but
	// the context's.
	CommandTimeout time.Duration
	// KeyPrefix starts every key the stores write.
	KeyPrefix string
	// TLSConfig, for a rediss:// URL, replaces the default TLS settings
	// (the system's roots), e.g. to trust a private CA. Its ServerName,
	// when empty, is the URL's host.
	TLSConfig *tls.Config
}

// Client is a pool of connections to one Redis server.
type Client struct {
	// Redis is the go-redis client, for the stores.
	Redis *redis.Client
	// Prefix starts every key the stores write.
	Prefix string
	// url is the URL with its password masked, for messages.
	url string
}

// New returns a client of the server at rawURL, one of
//
//	redis://[[user]:password@]host[:port][/db][?option=value&…]
//	rediss://…   (the same over TLS)
//	unix://[[user]:password@]/path/to/socket[?db=N&…]
//
// It connects lazily: a server that is down is an error of the first
// command, not of New, so a gateway starts while Redis is away.
func New(rawURL string, opts Options) (*Client, error) {
	cfg, err := parse(rawURL, opts)
	if err != nil {
		return nil, err
	}
	c := &Client{Redis: redis.NewClient(cfg.redis), Prefix: cfg.prefix, url: cfg.redacted}
	if cfg.budget > 0 {
		c.Redis.AddHook(timeoutHook(cfg.budget))
	}
	return c, nil
}

// String returns the URL of the server with its password masked.
func (c *Client) String() string { return c.url }

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", c.url, err)
	}
	return nil
}

// Close closes the connections.
func (c *Client) Close() error { return c.Redis.Close() }

// applyDefaults fills the go-redis options: explicit options first, then
// what the URL set, then the defaults.
func applyDefaults(ro *redis.Options, opts Options) {
	pick := func(dst *time.Duration, explicit, def time.Duration) {
		switch {
		case explicit != 0:
			*dst = explicit
		case *dst == 0:
			*dst = def
		}
	}
	pick(&ro.DialTimeout, opts.DialTimeout, DefaultDialTimeout)
	pick(&ro.ReadTimeout, opts.ReadTimeout, DefaultReadTimeout)
	pick(&ro.WriteTimeout, opts.WriteTimeout, DefaultWriteTimeout)
	pick(&ro.PoolTimeout, opts.PoolTimeout, DefaultPoolTimeout)
	switch {
	case opts.PoolSize > 0:
		ro.PoolSize = opts.PoolSize
	case ro.PoolSize == 0:
		ro.PoolSize = DefaultPoolSize
	}
	// No retries: a retry doubles the wait on a frozen server, and a
	// script retried after a timeout may run twice (charging a bucket
	// twice). Connections the server closed are found by go-redis's health
	// check when taken from the pool, so a restart costs no failed request.
	if ro.MaxRetries == 0 {
		ro.MaxRetries = -1
	}
	// One dial attempt a command: go-redis would otherwise try five times,
	// 100 ms apart, before a request learns that the server is down.
	ro.DialerRetries = 1
	// Deadlines of the caller's context bound the socket, not only the
	// timeouts above.
	ro.ContextTimeoutEnabled = true
	// Spare each new connection the round trips of CLIENT SETINFO and of
	// the maintenance-notification handshake of managed clusters.
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

// Key is the Redis key of a hashed llmgate key: prefix then the hash in
// hex, built in one allocation.
func Key(prefix string, hash []byte) string {
	b := make([]byte, len(prefix)+hex.EncodedLen(len(hash)))
	n := copy(b, prefix)
	hex.Encode(b[n:], hash)
	return string(b)
}
