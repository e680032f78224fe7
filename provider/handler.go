package provider

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// DefaultRetryOn are the answers a Handler retries by default.
var DefaultRetryOn = []int{429, 500, 502, 503, 504}

// DefaultMaxTries is the default of Handler.MaxTries.
const DefaultMaxTries = 3

// DefaultMaxBody is the default of Handler.MaxBody: the body is kept to
// send it again, up to 32 MiB.
const DefaultMaxBody = 32 << 20

// Next is the handler a Handler sends requests through: a reverse proxy.
type Next interface {
	ServeHTTP(http.ResponseWriter, *http.Request) error
}

// Result is the outcome of one attempt, for metrics.
type Result string

// The results of an attempt.
const (
	Answered    Result = "ok"           // an answer below 400
	Limited     Result = "limited"      // 429
	Refused     Result = "refused"      // 401: the key is revoked
	ServerError Result = "server_error" // 5xx
	ClientError Result = "client_error" // another 4xx
	Failed      Result = "failed"       // no answer: the connection failed
)

// resultOf is the Result of an answer of status.
func resultOf(status int) Result {
	switch {
	case status == http.StatusTooManyRequests:
		return Limited
	case status == http.StatusUnauthorized:
		return Refused
	case status >= 500:
		return ServerError
	case status >= 400:
		return ClientError
	}
	return Answered
}

// Report tells how a request a Handler served went.
type Report struct {
	// Key is the key of the last attempt; nil when none was made.
	Key *Key
	// Tries is the number of attempts made upstream.
	Tries int
}

// Handler sends requests upstream with the keys of Pool, retrying on
// another key before the client sees a byte. The zero values of its
// options are their defaults.
type Handler struct {
	Pool *Pool
	// Auth is how the provider takes its key. Default: Bearer.
	Auth Auth
	// RetryOn are the answers that make the request go again with the
	// next key; default DefaultRetryOn.
	RetryOn []int
	// RetryFailed retries a request whose connection failed (next
	// returned an error and wrote nothing).
	RetryFailed bool
	// MaxTries bounds the attempts upstream of one request; default
	// DefaultMaxTries.
	MaxTries int
	// MaxWait bounds how long a request waits for a key to come back when
	// every key sits out; 0 answers 429 at once.
	MaxWait time.Duration
	// MaxBody bounds the body kept to send again; a larger one is sent
	// once. Default DefaultMaxBody.
	MaxBody int64
	// Estimate, when set, estimates the tokens of a request, so that a
	// key that reported fewer left is passed over until its reset.
	Estimate func(r *http.Request) int64
	// OnAttempt, when set, is told the outcome of every attempt.
	OnAttempt func(k *Key, res Result)
	// OnRevoked, when set, is told of a key the provider refused (401)
	// where another key served the same request, once: it stays out of
	// the pool.
	OnRevoked func(k *Key, status int)
	// Report, when set, is told how each request went.
	Report func(r *http.Request, rep Report)
	// Memo, when set, returns the memo of a request's body that its
	// handlers share (see llmreq.MemoOf): an attempt after the first sends
	// the body again, and the handlers after read it anew. Nil: the memo
	// its context carries, if any.
	Memo func(*http.Request) *llmreq.Memo
	// Again, when set, returns the request an attempt after the first
	// sends: one with state of its own where a transport still finishing
	// an earlier attempt may read that attempt's (a reverse proxy's dial
	// reading its request's context).
	Again func(r *http.Request) *http.Request
}

// Serve sends r through next with one key of the pool, after removing
// every credential the caller sent (Strip). An answer in RetryOn, or a
// failed connection with RetryFailed, is kept from the client and the
// request goes again, its body sent again from its start, with the next
// usable key, up to MaxTries attempts; the last attempt's answer passes
// as it is. An answer that passes is written straight through: once a
// byte has gone to the client, nothing is retried. When every key sits
// out (429s, or limits the provider reported spent), the request waits
// up to MaxWait for the first to come back, else is answered 429 in its
// API's shape with the wait in Retry-After and retry-after-ms. A 401 (the
// provider refusing its key) never reaches the client, whose body may
// repeat the key: the request goes again with another key, and the
// refused key leaves the pool once another one serves the request (a
// refusal every key gets is the request's, a restricted key's missing
// scope, and revokes none); with no attempt left the client gets 502
// provider_key_refused. The error is next's.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, next Next) error {
	tries := orDefault(h.MaxTries, DefaultMaxTries)
	body, err := llmreq.Read(r, orDefault(h.MaxBody, DefaultMaxBody))
	if err != nil {
		tries = 1 // the body cannot be sent twice
	}
	var estimate int64
	if h.Estimate != nil {
		estimate = h.Estimate(r)
	}
	Strip(r)
	rep := Report{}
	defer func() {
		if h.Report != nil {
			h.Report(r, rep)
		}
	}()
	var tried uint64
	// refused are the keys the provider answered 401 for this request:
	// revoked once another key is served, kept when none is (the refusal
	// is then the request's).
	var refused []*Key
	for {
		k, i, back := h.Pool.pick(time.Now(), estimate, tried)
		if k == nil {
			if wait := time.Until(back); !back.IsZero() && wait <= h.MaxWait && sleep(r.Context(), wait) {
				continue
			}
			if r.Context().Err() == nil {
				writeNoKey(w, r, back)
			}
			return nil
		}
		tried |= 1 << i
		if rep.Tries > 0 {
			llmreq.MemoOf(r, h.Memo).SetBody(r, body)
			if h.Again != nil {
				r = h.Again(r)
			}
		}
		rep.Key = k
		rep.Tries++
		last := rep.Tries >= tries
		status, retry, err := h.attempt(w, r, next, k, last)
		switch {
		case status == http.StatusUnauthorized:
			refused = append(refused, k)
		case status != 0 && status < http.StatusBadRequest:
			for _, bad := range refused {
				if h.Pool.revoke(bad) && h.OnRevoked != nil {
					h.OnRevoked(bad, http.StatusUnauthorized)
				}
			}
		}
		if !retry || r.Context().Err() != nil {
			return err
		}
	}
}

// attempt sends r with k. retry reports that its answer was kept from the
// client and the request should go again.
func (h *Handler) attempt(w http.ResponseWriter, r *http.Request, next Next, k *Key, last bool) (status int, retry bool, err error) {
	h.Auth.set(r, k.secret)
	aw := &attemptWriter{w: w, header: w.Header().Clone(), last: last, retryOn: h.retryOn()}
	k.inflight.Add(1)
	err = next.ServeHTTP(aw, r)
	k.inflight.Add(-1)
	switch {
	case aw.status != 0:
		h.Pool.learn(k, aw.status, aw.header, time.Now())
		h.attempted(k, resultOf(aw.status))
		// A 401 is the key's or the request's: another key tells.
		retry = aw.held && !last && (aw.status == http.StatusUnauthorized || slices.Contains(aw.retryOn, aw.status))
		if aw.held && !retry && r.Context().Err() == nil {
			keyRefused.Write(w, r)
		}
		return aw.status, retry, err
	case err != nil:
		h.attempted(k, Failed)
		return 0, h.RetryFailed && !last && r.Context().Err() == nil, err
	}
	return 0, false, err
}

func (h *Handler) attempted(k *Key, res Result) {
	if h.OnAttempt != nil {
		h.OnAttempt(k, res)
	}
}

func (h *Handler) retryOn() []int {
	if h.RetryOn == nil {
		return DefaultRetryOn
	}
	return h.RetryOn
}

// orDefault is v, or def when v is not positive.
func orDefault[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// sleep waits d unless ctx ends first; it reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeNoKey answers a request no key can take: 429 until the first key
// comes back at back, or 503 when none ever will (every key refused).
func writeNoKey(w http.ResponseWriter, r *http.Request, back time.Time) {
	if back.IsZero() {
		(&llmreq.APIError{
			Status: http.StatusServiceUnavailable, Type: "server_error", Code: "no_provider_key",
			Message: "llmgate: every provider key was refused by the provider",
		}).Write(w, r)
		return
	}
	wait := max(time.Until(back), time.Millisecond)
	ms := (wait + time.Millisecond - 1) / time.Millisecond
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	h.Set("Retry-After-Ms", strconv.FormatInt(int64(ms), 10))
	h.Set("X-Should-Retry", strconv.FormatBool(wait <= time.Minute))
	(&llmreq.APIError{
		Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded",
		Message: "llmgate: every provider key is rate limited, retry in " + wait.Round(time.Millisecond).String(),
	}).Write(w, r)
}

// keyRefused answers a request whose provider key was refused (401) on
// its last attempt, in place of the provider's answer.
var keyRefused = &llmreq.APIError{
	Status: http.StatusBadGateway, Type: "server_error", Code: "provider_key_refused",
	Message: "llmgate: the provider refused the gateway's keys for this request",
}

// attemptWriter is the writer of one attempt: its answer goes to the
// client unless it is retryable and the attempt is not the last, in
// which case it is dropped, or a 401, which the handler answers itself. Headers are the attempt's own until the
// answer passes, so a dropped answer leaves none behind.
type attemptWriter struct {
	w       http.ResponseWriter
	header  http.Header
	retryOn []int
	last    bool
	// status is the answer's status, 0 until written.
	status int
	// held is set for an answer dropped for a retry, passed for one
	// written through.
	held, passed bool
}

func (a *attemptWriter) Header() http.Header { return a.header }

func (a *attemptWriter) WriteHeader(code int) {
	if a.status != 0 {
		return
	}
	if code < http.StatusOK {
		// Informational answers of an attempt that may yet be dropped are
		// dropped: they would leave their headers behind.
		if a.last {
			a.copyHeader()
			a.w.WriteHeader(code)
		}
		return
	}
	a.status = code
	// A 401 is about the provider's key, not the caller's, and its body
	// may repeat the key: it never reaches the client.
	if code == http.StatusUnauthorized || !a.last && slices.Contains(a.retryOn, code) {
		a.held = true
		return
	}
	a.passed = true
	a.copyHeader()
	a.w.WriteHeader(code)
}

// copyHeader makes the client's headers the attempt's, in the same map
// (the handlers before hold it).
func (a *attemptWriter) copyHeader() {
	dst := a.w.Header()
	clear(dst)
	for k, v := range a.header {
		dst[k] = v
	}
}

func (a *attemptWriter) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.WriteHeader(http.StatusOK)
	}
	if a.held {
		return len(b), nil
	}
	return a.w.Write(b)
}

// Flush implements http.Flusher, for streams.
func (a *attemptWriter) Flush() {
	if a.passed {
		_ = http.NewResponseController(a.w).Flush()
	}
}

// Unwrap returns the client's writer, for http.ResponseController.
func (a *attemptWriter) Unwrap() http.ResponseWriter { return a.w }
