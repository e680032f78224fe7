package provider

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// hints are what an answer says of its key's limits, in OpenAI's or
// Anthropic's headers.
type hints struct {
	// retryAfter is when to come back, from retry-after-ms or
	// retry-after; 0 when the answer does not say.
	retryAfter time.Duration
	// requests and tokens are the key's remaining requests and tokens and
	// when they are whole again; left is -1 when the answer does not say.
	requests, tokens limit
}

// limit is one limit of a key, as an answer reports it.
type limit struct {
	left  int64
	reset time.Duration
}

// readHints reads the hints of an answer's headers, at now.
func readHints(h http.Header, now time.Time) hints {
	return hints{
		retryAfter: retryAfter(h, now),
		requests: readLimit(h, now,
			"X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests",
			"Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset"),
		tokens: readLimit(h, now,
			"X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens",
			"Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset"),
	}
}

// retryAfter reads retry-after-ms (which the providers' SDKs prefer), else
// retry-after in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && !math.IsInf(ms, 1) {
			return time.Duration(min(ms, maxCooldownMS) * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	// A count of seconds beyond int64, or beyond int64 nanoseconds, is
	// capped before it is multiplied: it must not wrap to a short wait.
	if s, err := strconv.ParseInt(v, 10, 64); (err == nil || errors.Is(err, strconv.ErrRange)) && s >= 0 {
		return time.Duration(min(s, int64(maxCooldown/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxCooldown)
	}
	return 0
}

// maxCooldown bounds how long an answer can take a key out of the pool: a
// day, beyond any provider's window.
const (
	maxCooldown   = 24 * time.Hour
	maxCooldownMS = float64(maxCooldown / time.Millisecond)
)

// readLimit reads a remaining count and its reset from OpenAI's headers
// (the reset a duration such as "6m0s") or Anthropic's (an RFC 3339 time).
func readLimit(h http.Header, now time.Time, openAILeft, openAIReset, anthropicLeft, anthropicReset string) limit {
	l := limit{left: -1}
	if v := h.Get(openAILeft); v != "" {
		l.left = count(v)
		if d, err := time.ParseDuration(strings.TrimSpace(h.Get(openAIReset))); err == nil && d > 0 {
			l.reset = min(d, maxCooldown)
		}
		return l
	}
	if v := h.Get(anthropicLeft); v != "" {
		l.left = count(v)
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get(anthropicReset))); err == nil {
			l.reset = min(max(t.Sub(now), 0), maxCooldown)
		}
	}
	return l
}

// count reads a remaining count; -1 when it is not one.
func count(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// cooldown is how long a key that answered 429 with h sits out: as long
// as the answer says, else until the limit it exhausted is whole, else a
// second.
func (h hints) cooldown() time.Duration {
	if h.retryAfter > 0 {
		return h.retryAfter
	}
	var d time.Duration
	for _, l := range []limit{h.requests, h.tokens} {
		if l.left == 0 {
			d = max(d, l.reset)
		}
	}
	if d > 0 {
		return d
	}
	return time.Second
}
