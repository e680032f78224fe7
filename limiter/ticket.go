package limiter

import (
	"context"
	"sync/atomic"
	"time"
)

// Kind names what a limit counts. It is also the "type" of a refusal in the
// OpenAI error shape.
type Kind string

// The kinds of limit.
const (
	// KindRequests is a request rate.
	KindRequests Kind = "requests"
	// KindTokens is a rate of LLM tokens.
	KindTokens Kind = "tokens"
	// KindInputTokens is a rate of prompt tokens.
	KindInputTokens Kind = "input_tokens"
	// KindOutputTokens is a rate of generated tokens.
	KindOutputTokens Kind = "output_tokens"
	// KindCost is a rate of money: its counts are microdollars.
	KindCost Kind = "cost"
	// KindConcurrency is a cap on requests in flight.
	KindConcurrency Kind = "concurrency"
)

// Status is the state of one limit of one zone after a decision, for
// headers, logs and metrics.
type Status struct {
	// Zone is the zone's name.
	Zone string
	// Kind says what the limit counts.
	Kind Kind
	// Limit is the configured count: requests, tokens or microdollars per
	// Window, or the concurrency cap.
	Limit int64
	// Remaining is how many more could be admitted now.
	Remaining int64
	// Reset is the time until the limit is whole again: the bucket full,
	// the window renewed. Zero for concurrency.
	Reset time.Duration
	// Window is the rate's period; zero for concurrency.
	Window time.Duration
}

// Ticket is the outcome of Admit. An admitted request must call Done when
// its answer ends, and Settle (or Refund) once its usage is known.
type Ticket struct {
	// Allowed reports whether the request was admitted in every zone.
	Allowed bool
	// Zone names the zone that refused; empty when allowed.
	Zone string
	// Kind says which limit of Zone refused.
	Kind Kind
	// RetryAfter is when a refused request may succeed: exact for rates, a
	// guess of one second for concurrency, zero when allowed or when the
	// request's context ended while it waited.
	RetryAfter time.Duration

	statuses []Status
	// refusal indexes the status of the limit that refused.
	refusal int
	holds   []hold
	done    atomic.Bool
	settled atomic.Bool
	// Inline room for the common case of few zones: one allocation a ticket.
	statusBuf [3]Status
	holdBuf   [2]hold
}

// hold is what an admission took in one zone, to give back or free.
type hold struct {
	zone *zone
	key  Key
	// charges are what the zone's meters hold, by meter.
	charges [numMeters]charge
	// slot is set while the zone's concurrency slot is held; lease, when
	// it is a shared one (Zone.Slots).
	slot  bool
	lease string
}

// charge is what an admission holds in one meter of one zone.
type charge struct {
	// n is the units held: the request, or the tokens reserved; 0 when
	// nothing is held.
	n int64
	// status is the index of the meter's Status in statuses; -1 for a
	// charge taken in a batch and not yet decided.
	status int
	// reset is the end of the fixed window charged, in Unix seconds.
	reset int64
}

// Statuses returns the state of every limit decided for the request: the
// request and token rates, tightest zone first, then the concurrency caps.
// A refused request lists the limits decided up to the refusal. Token
// statuses are those of the reservation. The slice must not be modified.
func (t *Ticket) Statuses() []Status { return t.statuses }

// Done frees the request's concurrency slots. It may be called more than
// once; only the first call counts.
func (t *Ticket) Done() {
	if !t.done.CompareAndSwap(false, true) {
		return
	}
	t.releaseSlots()
}

func (t *Ticket) releaseSlots() {
	for i := range t.holds {
		h := &t.holds[i]
		switch {
		case h.lease != "":
			h.zone.releaseShared(h.key, h.lease)
			h.lease, h.slot = "", false
		case h.slot:
			h.zone.InFlight.release(h.key)
			h.slot = false
		}
	}
}

// refuse records the refusal by the limit of statuses[i] and takes back
// everything the ticket holds.
func (t *Ticket) refuse(ctx context.Context, i int, retry time.Duration) error {
	st := t.statuses[i]
	t.Allowed, t.Zone, t.Kind, t.RetryAfter, t.refusal = false, st.Zone, st.Kind, retry, i
	t.releaseSlots()
	return t.giveBack(ctx)
}

// giveBack returns every rate charge the ticket holds. It keeps going past
// a failing store so that the other zones get theirs back.
func (t *Ticket) giveBack(ctx context.Context) error {
	// The charges go back even when the request's own context has ended:
	// that is exactly when a waiting request leaves.
	ctx = context.WithoutCancel(ctx)
	first := t.giveBackBatches(ctx)
	for i := range t.holds {
		h := &t.holds[i]
		for m := range h.charges {
			c := &h.charges[m]
			if c.n == 0 {
				continue
			}
			if err := h.zone.adjust(ctx, &h.zone.meters[m], h.key, -c.n, c.reset); err != nil && first == nil {
				first = err
			}
			t.returned(c)
		}
	}
	return first
}

// returned notes that charge c has been given back.
func (t *Ticket) returned(c *charge) {
	if c.status >= 0 {
		if st := &t.statuses[c.status]; st.Remaining < st.Limit {
			st.Remaining = min(st.Remaining+c.n, st.Limit)
		}
	}
	c.n = 0
}
