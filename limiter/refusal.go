package limiter

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// WriteRefusal answers a refused request r: 429 in the error shape of its
// API (llmreq.APIError), with Retry-After (whole seconds, at least 1),
// retry-after-ms (which the OpenAI and Anthropic SDKs prefer),
// x-should-retry and the headers of style. It writes nothing for an
// admitted ticket.
func (t *Ticket) WriteRefusal(w http.ResponseWriter, r *http.Request, style HeaderStyle) {
	if t.Allowed {
		return
	}
	retry := max(t.RetryAfter, time.Millisecond)
	h := w.Header()
	t.SetHeaders(h, style)
	h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(retry), 1), 10))
	h.Set("Retry-After-Ms", strconv.FormatInt(int64(ceilTo(retry, time.Millisecond)/time.Millisecond), 10))
	h.Set("X-Should-Retry", strconv.FormatBool(retry <= MaxSDKWait))
	(&llmreq.APIError{
		Status:  http.StatusTooManyRequests,
		Type:    string(t.Kind),
		Code:    "rate_limit_exceeded",
		Message: "llmgate: zone " + t.Zone + ": " + t.limitText() + ", retry in " + formatDuration(retry),
	}).Write(w, r)
}

// MaxSDKWait is the longest wait the OpenAI and Anthropic SDKs honour as
// given: told to wait longer, they fall back to a short backoff of their
// own, and soon give up. A refusal whose wait is longer says
// x-should-retry: false, so a client does not spend its retries on it.
const MaxSDKWait = time.Minute

// limitText describes the limit that refused: "60 requests per 1m0s",
// "30000 tokens per 1m0s", "$25.00 per 1d", "4 concurrent requests".
func (t *Ticket) limitText() string {
	st := t.statuses[t.refusal]
	if st.Kind == KindCost {
		return pricing.Micros(st.Limit).String() + " per " + periodText(st.Window)
	}
	noun := " " + st.Kind.noun() + "s"
	if st.Limit == 1 {
		noun = noun[:len(noun)-1]
	}
	count := strconv.FormatInt(st.Limit, 10)
	if st.Kind == KindConcurrency {
		return count + " concurrent" + noun
	}
	return count + noun + " per " + periodText(st.Window)
}

// noun names one unit of the kind: "request", "input token".
func (k Kind) noun() string {
	switch k {
	case KindTokens:
		return "token"
	case KindInputTokens:
		return "input token"
	case KindOutputTokens:
		return "output token"
	case KindCost:
		return "cost"
	}
	return "request"
}

// periodText writes a rate's period: whole days as "1d", "7d" (Go would
// write 24h0m0s), others as Go durations.
func periodText(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// unreadable is the answer to a request whose body zone cannot count: 413
// for a body over limit bytes, 400 for one that could not be read.
func unreadable(err error, zone string, limit int64) *llmreq.APIError {
	status, code := http.StatusRequestEntityTooLarge, "request_too_large"
	msg := "llmgate: zone " + zone + ": the request body is over " + strconv.FormatInt(limit, 10) + " bytes, too large to count its tokens"
	if !errors.Is(err, llmreq.ErrTooLarge) {
		status, code = http.StatusBadRequest, "invalid_request_body"
		msg = "llmgate: zone " + zone + ": the request body could not be read to count its tokens"
	}
	return &llmreq.APIError{Status: status, Type: "invalid_request_error", Code: code, Message: msg}
}

// ambiguousModel is the answer to a request a cost zone applies to whose
// body names "model" in another case: upstreams that read names
// regardless of case could serve a model other than the one priced.
func ambiguousModel(zone string) *llmreq.APIError {
	return &llmreq.APIError{
		Status:  http.StatusBadRequest,
		Type:    "invalid_request_error",
		Code:    "ambiguous_model",
		Message: `llmgate: zone ` + zone + `: the body names its model in another case ("Model"), which upstreams read differently; send "model" alone`,
	}
}

// maxQuoted bounds the bytes of a caller's model an answer repeats.
const maxQuoted = 128

// unpriced is the answer to a request a cost zone applies to whose model
// has no price: what cannot be priced is never free.
func unpriced(model, zone string) *llmreq.APIError {
	if len(model) > maxQuoted {
		model = model[:maxQuoted] + "..."
	}
	return &llmreq.APIError{
		Status:  http.StatusBadRequest,
		Type:    "invalid_request_error",
		Code:    "model_not_priced",
		Message: "llmgate: zone " + zone + ": model " + strconv.Quote(model) + " has no price, so its cost cannot be counted",
	}
}

// storeUnavailable is the answer to a request refused because a store failed
// and FailClosed is set.
var storeUnavailable = &llmreq.APIError{
	Status:  http.StatusServiceUnavailable,
	Type:    "server_error",
	Code:    "rate_limit_unavailable",
	Message: "llmgate: rate limit store unavailable",
}
