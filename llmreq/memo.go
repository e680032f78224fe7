package llmreq

import (
	"context"
	"net/http"
)

// Memo remembers the outcome of reading and parsing one request's body, so
// that a matcher, a rate limiter and a cache looking at the same request read
// and parse the body once. A Memo belongs to one request; that request's
// handlers run one after another, so it needs no locking. The zero Memo is
// ready to use.
type Memo struct {
	read     bool     // the whole body was read, into body
	body     []byte   //
	tooLarge bool     // the body is larger than below
	below    int64    // the largest limit found too small
	readErr  error    // reading failed
	req      *Request // Parse's result once read
	parseErr error    //
}

// Inspect reads r's body (at most limit bytes, as Read does) and parses it the
// first time, and returns the same result on later calls. A later call with a
// limit smaller than the body returns ErrTooLarge; one with a limit larger
// than an earlier call found too small reads on from where that call stopped
// (r.Body replays what was read, so nothing is lost). Errors are ErrTooLarge,
// an error wrapping ErrNotJSON, or the read error.
func (m *Memo) Inspect(r *http.Request, limit int64) (*Request, error) {
	limit = max(limit, 0)
	switch {
	case m.readErr != nil:
		return nil, m.readErr
	case !m.read:
		if m.tooLarge && limit <= m.below {
			return nil, ErrTooLarge
		}
		body, err := Read(r, limit)
		switch {
		case err == ErrTooLarge:
			m.tooLarge, m.below = true, limit
			return nil, err
		case err != nil:
			m.readErr = err
			return nil, err
		}
		m.read, m.body = true, body
		m.req, m.parseErr = Parse(body)
	}
	if int64(len(m.body)) > limit {
		return nil, ErrTooLarge
	}
	return m.req, m.parseErr
}

// Parsed returns the request Inspect parsed, or nil when the body was not
// read, or was not valid JSON. It never reads.
func (m *Memo) Parsed() *Request { return m.req }

type memoKey struct{}

// NewContext returns a copy of ctx that carries m, for Inspect to find.
func NewContext(ctx context.Context, m *Memo) context.Context {
	return context.WithValue(ctx, memoKey{}, m)
}

// FromContext returns the Memo ctx carries, or nil.
func FromContext(ctx context.Context) *Memo {
	m, _ := ctx.Value(memoKey{}).(*Memo)
	return m
}

// Inspect reads and parses r's body through the Memo in r's context when
// there is one, so handlers of one request share the work; without one it
// reads (at most limit bytes, as Read does) and parses on every call.
func Inspect(r *http.Request, limit int64) (*Request, error) {
	if m := FromContext(r.Context()); m != nil {
		return m.Inspect(r, limit)
	}
	body, err := Read(r, limit)
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
