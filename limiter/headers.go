package limiter

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// HeaderStyle selects the rate-limit headers set on answers.
type HeaderStyle string

// The header styles.
const (
	// HeadersOpenAI sets x-ratelimit-limit-requests,
	// x-ratelimit-remaining-requests and x-ratelimit-reset-requests, and the
	// same three for tokens, like OpenAI's API. It is the default, and
	// Serve answers a request in Anthropic's dialect (llmreq.DialectOf)
	// with HeadersAnthropic instead: each client gets its provider's.
	HeadersOpenAI HeaderStyle = "openai"
	// HeadersAnthropic sets anthropic-ratelimit-requests-limit,
	// -remaining and -reset (an RFC 3339 time), and the same three for
	// tokens, like Anthropic's API.
	HeadersAnthropic HeaderStyle = "anthropic"
	// HeadersIETF sets RateLimit-Policy and RateLimit as defined by
	// draft-ietf-httpapi-ratelimit-headers.
	HeadersIETF HeaderStyle = "ietf"
	// HeadersNone sets no rate-limit headers.
	HeadersNone HeaderStyle = "none"
)

// ParseHeaderStyle reads a style name; the empty name is HeadersOpenAI.
func ParseHeaderStyle(s string) (HeaderStyle, error) {
	switch st := HeaderStyle(s); st {
	case "":
		return HeadersOpenAI, nil
	case HeadersOpenAI, HeadersAnthropic, HeadersIETF, HeadersNone:
		return st, nil
	}
	return "", fmt.Errorf("limiter: unknown header style %q (want openai, anthropic, ietf or none)", s)
}

// Canonical header names, set directly so no call canonicalises them again.
const (
	headerPolicy    = "Ratelimit-Policy"
	headerRateLimit = "Ratelimit"
)

// trio names the three headers of one kind of limit.
type trio struct {
	kind                    Kind
	limit, remaining, reset string
}

// costHeaders describe cost limits, in USD, in either style: the
// providers have none of their own.
var costHeaders = trio{KindCost, "X-Ratelimit-Limit-Cost", "X-Ratelimit-Remaining-Cost", "X-Ratelimit-Reset-Cost"}

// openAIHeaders and anthropicHeaders are the providers' header trios, by
// the kind of limit they describe.
var (
	openAIHeaders = [...]trio{
		{KindRequests, "X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"},
		{KindTokens, "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"},
		costHeaders,
	}
	anthropicHeaders = [...]trio{
		{KindRequests, "Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset"},
		{KindTokens, "Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset"},
		{KindInputTokens, "Anthropic-Ratelimit-Input-Tokens-Limit", "Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Reset"},
		{KindOutputTokens, "Anthropic-Ratelimit-Output-Tokens-Limit", "Anthropic-Ratelimit-Output-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Reset"},
		costHeaders,
	}
)

// maxTrios is the most trios a style sets.
const maxTrios = max(len(openAIHeaders), len(anthropicHeaders))

// styleFor returns the style r is answered with: its provider's own
// headers when style is the default.
func styleFor(r *http.Request, style HeaderStyle) HeaderStyle {
	if (style == "" || style == HeadersOpenAI) && llmreq.DialectOf(r) == llmreq.Anthropic {
		return HeadersAnthropic
	}
	return style
}

// SetHeaders sets the rate-limit headers of style on h, replacing any an
// upstream set. An empty style is HeadersOpenAI; an unknown one sets
// nothing. Each OpenAI trio (requests, tokens) describes the tightest zone
// of its kind: the one with the least remaining in proportion to its limit.
// A trio no zone applied to is not set, and an upstream's passes unchanged.
// Anthropic's trios are alike, their reset a time. Cost trios give USD.
func (t *Ticket) SetHeaders(h http.Header, style HeaderStyle) { t.setHeaders(h, style, nil) }

// trioValues holds the value slices of the trios' headers.
type trioValues [3 * maxTrios]string

// setHeaders is SetHeaders; the trios' values go in into when it is set:
// a writer that sets the headers of its one answer keeps them there,
// rather than in an allocation of their own.
func (t *Ticket) setHeaders(h http.Header, style HeaderStyle, into *trioValues) {
	switch style {
	case "", HeadersOpenAI:
		t.setTrios(h, openAIHeaders[:], time.Time{}, into)
	case HeadersAnthropic:
		t.setTrios(h, anthropicHeaders[:], time.Now(), into)
	case HeadersIETF:
		t.setIETF(h)
	}
}

// setTrios sets a trio per kind of limit: the reset as a duration (OpenAI)
// or, given now, as the time it comes, in whole seconds rounded up so that
// waiting until then is enough (Anthropic). Every answer carries them, so
// the values are written into one string and share one backing array,
// into's when it is set.
func (t *Ticket) setTrios(h http.Header, trios []trio, now time.Time, into *trioValues) {
	var (
		buf   [256]byte
		b     = buf[:0]
		names [3 * maxTrios]string
		ends  [3 * maxTrios]int
		n     int
	)
	for _, tr := range trios {
		st, ok := t.tightest(tr.kind)
		if !ok {
			continue
		}
		b = appendCount(b, st.Limit, tr.kind)
		names[n], ends[n] = tr.limit, len(b)
		b = appendCount(b, st.Remaining, tr.kind)
		names[n+1], ends[n+1] = tr.remaining, len(b)
		if now.IsZero() {
			b = appendDuration(b, st.Reset)
		} else {
			b = now.Add(ceilTo(st.Reset, time.Second)).UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
		}
		names[n+2], ends[n+2] = tr.reset, len(b)
		n += 3
	}
	if n == 0 {
		return
	}
	s := string(b)
	var vals []string
	if into != nil {
		vals = into[:n]
	} else {
		vals = make([]string, n)
	}
	start := 0
	for i := range n {
		vals[i] = s[start:ends[i]]
		start = ends[i]
		h[names[i]] = vals[i : i+1 : i+1]
	}
}

// appendCount appends a count of kind: microdollars as USD.
func appendCount(b []byte, n int64, kind Kind) []byte {
	if kind == KindCost {
		return pricing.Micros(n).AppendUSD(b)
	}
	return strconv.AppendInt(b, n, 10)
}

// tightest returns the status of kind with the least remaining in
// proportion to its limit, the longest reset breaking ties.
func (t *Ticket) tightest(kind Kind) (Status, bool) {
	var best Status
	found := false
	for _, st := range t.statuses {
		if st.Kind != kind {
			continue
		}
		// Compare Remaining/Limit without division: r1*l2 vs r2*l1.
		a, b := st.Remaining*best.Limit, best.Remaining*st.Limit
		if !found || a < b || a == b && st.Reset > best.Reset {
			best, found = st, true
		}
	}
	return best, found
}

// setIETF lists every limit that applied, one policy per limit.
func (t *Ticket) setIETF(h http.Header) {
	if len(t.statuses) == 0 {
		return
	}
	var policy, current strings.Builder
	for i, st := range t.statuses {
		if i > 0 {
			policy.WriteString(", ")
			current.WriteString(", ")
		}
		name := st.Zone
		if st.Kind != KindRequests {
			name += "-" + string(st.Kind)
		}
		writeSFString(&policy, name)
		policy.WriteString(";q=")
		writeSFString(&current, name)
		current.WriteString(";r=")
		current.WriteString(strconv.FormatInt(st.Remaining, 10))
		if st.Kind == KindConcurrency {
			policy.WriteString(strconv.FormatInt(st.Limit, 10))
			policy.WriteString(`;qu="concurrent-requests"`)
			continue
		}
		q, w := ietfWindow(st.Limit, st.Window)
		policy.WriteString(strconv.FormatInt(q, 10))
		policy.WriteString(";w=")
		policy.WriteString(strconv.FormatInt(w, 10))
		switch st.Kind {
		case KindTokens, KindInputTokens, KindOutputTokens:
			policy.WriteString(`;qu="tokens"`)
		case KindCost:
			policy.WriteString(`;qu="usd-micros"`)
		}
		// The effective window of the limit that refused ends when a
		// request fits again: the draft wants Retry-After no earlier.
		reset := st.Reset
		if !t.Allowed && i == t.refusal {
			reset = t.RetryAfter
		}
		current.WriteString(";t=")
		current.WriteString(strconv.FormatInt(ceilSeconds(reset), 10))
	}
	h[headerPolicy] = []string{policy.String()}
	h[headerRateLimit] = []string{current.String()}
}

// ietfWindow expresses limit per window as a quota over whole seconds, as
// the draft's w parameter allows no fractions: 5 per 1.5s becomes 6 per 2s.
func ietfWindow(limit int64, window time.Duration) (q, w int64) {
	w = max(ceilSeconds(window), 1)
	if window == time.Duration(w)*time.Second {
		return limit, w
	}
	return int64(float64(limit) * float64(w) * float64(time.Second) / float64(window)), w
}

// writeSFString writes s as a structured-field String (RFC 9651): quoted,
// with quotes and backslashes escaped; bytes a String cannot hold become '?'.
func writeSFString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	return int64(ceilTo(d, time.Second) / time.Second)
}

// ceilTo rounds d up to a multiple of unit.
func ceilTo(d, unit time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + unit - 1) / unit * unit
}

// formatDuration renders d as a Go duration with the precision a client
// needs, rounded up so that waiting that long is enough: "12ms" under a
// second, "1.2s" under a minute, "4m13s" beyond.
func formatDuration(d time.Duration) string { return string(appendDuration(nil, d)) }

// appendDuration appends formatDuration(d), as time.Duration.String
// writes the rounded value, without allocating.
func appendDuration(b []byte, d time.Duration) []byte {
	const ms = time.Millisecond
	switch {
	case d <= 0:
		return append(b, "0s"...)
	case d < time.Second:
		d = ceilTo(d, ms)
	case d < time.Minute:
		d = ceilTo(d, 100*ms)
	default:
		d = ceilTo(d, time.Second)
	}
	// Written as Duration.String writes the rounded value, which may have
	// reached the next unit.
	switch {
	case d < time.Second:
		return append(strconv.AppendInt(b, int64(d/ms), 10), "ms"...)
	case d < time.Minute:
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
		if tenths := d % time.Second / (100 * ms); tenths != 0 {
			b = append(b, '.', byte('0'+tenths))
		}
		return append(b, 's')
	}
	if h := d / time.Hour; h > 0 {
		b = append(strconv.AppendInt(b, int64(h), 10), 'h')
	}
	b = append(strconv.AppendInt(b, int64(d%time.Hour/time.Minute), 10), 'm')
	return append(strconv.AppendInt(b, int64(d%time.Minute/time.Second), 10), 's')
}
