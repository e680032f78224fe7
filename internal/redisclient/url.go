package redisclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Query parameters of llmgate; go-redis rejects parameters it does not
// know, so these are taken out before it parses the URL.
const (
	paramKeyPrefix      = "key_prefix"
	paramCommandTimeout = "command_timeout"
)

// config is a parsed URL with the options applied.
type config struct {
	redis    *redis.Options
	prefix   string
	budget   time.Duration
	redacted string
}

// parse reads rawURL and applies opts. Its errors never quote the password.
func parse(rawURL string, opts Options) (config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return config{}, fmt.Errorf("redis URL: %s", describeParseError(rawURL, err))
	}
	cfg := config{prefix: DefaultKeyPrefix, budget: DefaultCommandTimeout, redacted: u.Redacted()}
	fail := func(format string, args ...any) (config, error) {
		msg := "redis URL " + cfg.redacted + ": " + fmt.Sprintf(format, args...)
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		return config{}, errors.New(msg)
	}
	q := u.Query()
	if q.Has(paramKeyPrefix) {
		cfg.prefix = q.Get(paramKeyPrefix)
	}
	if q.Has(paramCommandTimeout) {
		if cfg.budget, err = time.ParseDuration(q.Get(paramCommandTimeout)); err != nil {
			return fail("%s: %v", paramCommandTimeout, err)
		}
	}
	q.Del(paramKeyPrefix)
	q.Del(paramCommandTimeout)
	u.RawQuery = q.Encode()
	if cfg.redis, err = redis.ParseURL(u.String()); err != nil {
		return fail("%v", err)
	}
	if opts.KeyPrefix != "" {
		cfg.prefix = opts.KeyPrefix
	}
	if opts.CommandTimeout != 0 {
		cfg.budget = opts.CommandTimeout
	}
	if opts.TLSConfig != nil {
		if cfg.redis.TLSConfig == nil {
			return fail("TLS options given for a URL without TLS (use rediss://)")
		}
		tc := opts.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.redis.TLSConfig.ServerName
		}
		cfg.redis.TLSConfig = tc
	}
	if opts.PoolSize < 0 {
		return fail("pool size %d: must not be negative", opts.PoolSize)
	}
	applyDefaults(cfg.redis, opts)
	return cfg, nil
}

// describeParseError explains why url.Parse refused raw without quoting
// the password: the parts of raw an error may quote are masked, and a bad
// escape or host, which may lie inside the password, is only named.
func describeParseError(raw string, err error) string {
	var escErr url.EscapeError
	var hostErr url.InvalidHostError
	switch {
	case errors.As(err, &escErr):
		return "invalid %-escape (escape '%' in a password as %25)"
	case errors.As(err, &hostErr):
		return "invalid character in the host"
	}
	msg := err.Error()
	var uerr *url.Error
	if errors.As(err, &uerr) {
		msg = uerr.Err.Error() // without the URL that url.Error quotes
	}
	if info := rawUserinfo(raw); info != "" {
		msg = strings.ReplaceAll(msg, info, "xxxxx")
	}
	return msg
}

// rawUserinfo is the user:password part of a URL as written: what lies
// between the scheme and the last '@'.
func rawUserinfo(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	return rest[:at]
}
