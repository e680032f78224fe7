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

// paramPassword is the query parameter of a Sentinel URL that holds the
// primary's password.
const paramPassword = "password"

// config is a parsed URL with the options applied: one of redis, cluster
// and failover is set, as the mode says.
type config struct {
	redis    *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
	prefix   string
	budget   time.Duration
	redacted string
}

// parse reads rawURL, a URL of the mode's form, and applies opts. Its
// errors never quote a password.
func parse(mode Mode, rawURL string, opts Options) (config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return config{}, fmt.Errorf("redis URL: %s", describeParseError(rawURL, err))
	}
	cfg := config{prefix: DefaultKeyPrefix, budget: DefaultCommandTimeout, redacted: redact(u)}
	fail := func(format string, args ...any) (config, error) {
		msg := "redis URL " + cfg.redacted + ": " + fmt.Sprintf(format, args...)
		for _, pw := range passwords(u) {
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
	var k knobs
	switch mode {
	case Cluster:
		cfg.cluster, err = redis.ParseClusterURL(u.String())
		if err == nil {
			k = clusterKnobs(cfg.cluster)
		}
	case Sentinel:
		cfg.failover, err = redis.ParseFailoverURL(u.String())
		if err == nil && cfg.failover.MasterName == "" {
			err = errors.New("missing master_name")
		}
		if err == nil {
			k = failoverKnobs(cfg.failover)
		}
	default:
		cfg.redis, err = redis.ParseURL(u.String())
		if err == nil {
			k = singleKnobs(cfg.redis)
		}
	}
	if err != nil {
		return fail("%v", err)
	}
	if opts.KeyPrefix != "" {
		cfg.prefix = opts.KeyPrefix
	}
	if opts.CommandTimeout != 0 {
		cfg.budget = opts.CommandTimeout
	}
	if opts.TLSConfig != nil {
		if *k.tls == nil {
			return fail("TLS options given for a URL without TLS (use rediss://)")
		}
		tc := opts.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = (*k.tls).ServerName
		}
		*k.tls = tc
	}
	if opts.PoolSize < 0 {
		return fail("pool size %d: must not be negative", opts.PoolSize)
	}
	applyDefaults(k, opts)
	return cfg, nil
}

// redact returns u as text with its passwords masked: the user's, and the
// primary's in the query of a Sentinel URL.
func redact(u *url.URL) string {
	q := u.Query()
	if !q.Has(paramPassword) {
		return u.Redacted()
	}
	q.Set(paramPassword, "xxxxx")
	v := *u
	v.RawQuery = q.Encode()
	return v.Redacted()
}

// passwords are the passwords u holds, for masking in messages.
func passwords(u *url.URL) []string {
	var pws []string
	if pw, ok := u.User.Password(); ok && pw != "" {
		pws = append(pws, pw)
	}
	if pw := u.Query().Get(paramPassword); pw != "" {
		pws = append(pws, pw)
	}
	return pws
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
