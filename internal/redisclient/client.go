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

// Client is a pool of connections to Redis: one server, a cluster or a
// primary found through Sentinel.
type Client struct {
	// Universal is the go-redis client in every mode, for the stores.
	Universal redis.UniversalClient
	// Redis is the same client in modes Single and Sentinel, which
	// go-redis serves with one type; nil in mode Cluster.
	Redis *redis.Client
	// Prefix starts every key the stores write.
	Prefix string
	// url is the URL with its password masked, for messages.
	url string
	// budget is the CommandTimeout; 0 for no bound.
	budget time.Duration
}

// New returns a client of the server at rawURL, one of
//
//	redis://[[user]:password@]host[:port][/db][?option=value&…]
//	rediss://…   (the same over TLS)
//	unix://[[user]:password@]/path/to/socket[?db=N&…]
//
// It connects lazily: a server that is down is an error of the first
// command, not of New, so a gateway starts while Redis is away.
func New(rawURL string, opts Options) (*Client, error) { return Open(Single, rawURL, opts) }

// Open returns a client of Redis in mode, at rawURL of the mode's form
// (see Mode), with the query options and defaults New applies. It
// connects lazily, as New.
//
// The command budget bounds a command of a cluster with its redirections
// and retries: go-redis follows MOVED to a slot's new primary, and tries a
// command again after an error of the connection, within the same budget.
// Such a retry may follow a timeout, so a script may then run twice: a
// bucket is charged twice, which errs toward refusing, never toward
// admitting more. A command that fails for want of its node has the client
// reload its map of the slots, so that the next commands find a promoted
// replica (see reloadHook).
func Open(mode Mode, rawURL string, opts Options) (*Client, error) {
	cfg, err := parse(mode, rawURL, opts)
	if err != nil {
		return nil, err
	}
	c := &Client{Prefix: cfg.prefix, url: cfg.redacted}
	switch mode {
	case Cluster:
		cc := redis.NewClusterClient(cfg.cluster)
		cc.AddHook(reloadHook{cc})
		c.Universal = cc
	case Sentinel:
		c.Redis = redis.NewFailoverClient(cfg.failover)
		c.Universal = c.Redis
	default:
		c.Redis = redis.NewClient(cfg.redis)
		c.Universal = c.Redis
	}
	if cfg.budget > 0 {
		c.budget = cfg.budget
		c.Universal.AddHook(timeoutHook(cfg.budget))
	}
	return c, nil
}

// String returns the URL of the server with its password masked.
func (c *Client) String() string { return c.url }

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.Universal.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", c.url, err)
	}
	return nil
}

// Close closes the connections.
func (c *Client) Close() error { return c.Universal.Close() }

// applyDefaults fills the go-redis options k points at: explicit options
// first, then what the URL set, then the defaults.
func applyDefaults(k knobs, opts Options) {
	pick := func(dst *time.Duration, explicit, def time.Duration) {
		switch {
		case explicit != 0:
			*dst = explicit
		case *dst == 0:
			*dst = def
		}
	}
	pick(k.dialTimeout, opts.DialTimeout, DefaultDialTimeout)
	pick(k.readTimeout, opts.ReadTimeout, DefaultReadTimeout)
	pick(k.writeTimeout, opts.WriteTimeout, DefaultWriteTimeout)
	pick(k.poolTimeout, opts.PoolTimeout, DefaultPoolTimeout)
	switch {
	case opts.PoolSize > 0:
		*k.poolSize = opts.PoolSize
	case *k.poolSize == 0:
		*k.poolSize = DefaultPoolSize
	}
	// No retries: a retry doubles the wait on a frozen server, and a
	// script retried after a timeout may run twice (charging a bucket
	// twice). Connections the server closed are found by go-redis's health
	// check when taken from the pool, so a restart costs no failed request.
	if *k.maxRetries == 0 {
		*k.maxRetries = -1
	}
	// One dial attempt a command: go-redis would otherwise try five times,
	// 100 ms apart, before a request learns that the server is down.
	*k.dialerRetries = 1
	// Deadlines of the caller's context bound the socket, not only the
	// timeouts above.
	*k.contextTimeout = true
	// Spare each new connection the round trips of CLIENT SETINFO and of
	// the maintenance-notification handshake of managed clusters.
	*k.disableIdentity = true
	if k.maint != nil {
		*k.maint = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
}

// Key is the Redis key of a hashed llmgate key: prefix then the hash in
// hex, built in one allocation.
func Key(prefix string, hash []byte) string {
	b := make([]byte, len(prefix)+hex.EncodedLen(len(hash)))
	n := copy(b, prefix)
	hex.Encode(b[n:], hash)
	return string(b)
}
