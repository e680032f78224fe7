package limiter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// DefaultMaxBody is the default of Options.MaxBody: 32 MiB, room for a
// long conversation with images inline.
const DefaultMaxBody = 32 << 20

// Options configures a Limiter.
type Options struct {
	// FailClosed makes Middleware answer 503 when a store fails; by default
	// the request is admitted unlimited.
	FailClosed bool
	// OnError receives store failures: those Middleware meets, and those
	// Admit cannot return because the decision was already made (a charge
	// that could not be given back). Errors never contain raw keys.
	OnError func(error)
	// MaxBody bounds the request body Serve reads to estimate its tokens,
	// when a zone limits tokens: the body is kept (for the upstream) and
	// scanned, never canonicalised. A larger body, or one that cannot be
	// read, is refused when a token zone applies to it (413, or 400 when
	// reading fails): tokens that cannot be counted are never free.
	// Default: DefaultMaxBody.
	MaxBody int64
	// Free reports, once its answer is done, a request that cost the
	// upstream no tokens, such as one a cache answered: its reservation
	// is given back. Nil: none.
	Free func(r *http.Request) bool
	// Memo, when set, returns the memo of a request's body that its
	// handlers share (see llmreq.MemoOf); nil: the memo its context
	// carries, if any.
	Memo func(*http.Request) *llmreq.Memo
	// Report, when set, is told how each request Serve decided went,
	// once its answer is done.
	Report func(r *http.Request, rep Report)
	// Prices prices the usage of zones with a Cost rate, by the model
	// the request names. A request a cost zone applies to whose model has
	// no price is refused (400): it is never free.
	Prices *pricing.Table
	// StreamUsage makes Serve ask an OpenAI chat completion stream that a
	// token zone applies to, and that does not ask for its usage, to
	// report it (stream_options.include_usage), so that it is charged
	// what it cost rather than an estimate; the chunk that carries the
	// usage is kept from the client, which did not ask for it.
	StreamUsage bool
}

// Limiter decides requests against a list of zones. It is safe for
// concurrent use.
type Limiter struct {
	// zones are sorted tightest first: the zone most likely to refuse is
	// charged first, so fewer charges are taken only to be given back.
	zones []zone
	opts  Options
	// owned is the default bucket store, created for zones without one.
	owned *MemoryStore
	// metered is set when a zone meters usage (tokens or cost): Serve
	// then estimates and settles it.
	metered bool
}

// New validates zones and returns a Limiter over them. Zones without stores
// share defaults owned by the Limiter, which Close releases.
func New(zones []Zone, opts Options) (*Limiter, error) {
	l := &Limiter{opts: opts}
	var windows ulule.Store
	var inflight *InFlight
	names := make(map[string]bool, len(zones))
	for i, zc := range zones {
		z, err := newZone(zc)
		if err != nil {
			return nil, err
		}
		if names[z.Name] {
			return nil, fmt.Errorf("limiter: zone %q defined twice", z.Name)
		}
		names[z.Name] = true
		z.index, z.salt = i, saltOf(z.Name)
		z.waiting = new(atomic.Int64)
		rated := !z.Requests.IsZero() || z.Metered()
		if z.Buckets == nil && rated && z.Algorithm != FixedWindow {
			if l.owned == nil {
				l.owned = NewMemoryStore(MemoryOptions{})
			}
			z.Buckets = l.owned
		}
		if z.Windows == nil && rated && z.Algorithm == FixedWindow {
			if windows == nil {
				windows = ululemem.NewStore()
			}
			z.Windows = windows
		}
		if z.Algorithm != FixedWindow {
			z.batch, _ = z.Buckets.(BatchStore)
		}
		if z.InFlight == nil && z.Concurrency > 0 {
			if inflight == nil {
				inflight = NewInFlight()
			}
			z.InFlight = inflight
		}
		l.zones = append(l.zones, z)
		l.metered = l.metered || z.Metered()
	}
	if l.opts.MaxBody <= 0 {
		l.opts.MaxBody = DefaultMaxBody
	}
	// Tightest first: the longest interval between requests. Zones with no
	// request rate go last, in their order.
	slices.SortStableFunc(l.zones, func(a, b zone) int {
		return cmp.Compare(b.meters[requestMeter].interval, a.meters[requestMeter].interval)
	})
	return l, nil
}

// Close releases the stores the Limiter created. Stores passed in Zone are
// the caller's to close.
func (l *Limiter) Close() error {
	if l.owned != nil {
		return l.owned.Close()
	}
	return nil
}

// Admit decides one request, reserving one unit in zones that meter
// usage: it is AdmitSpend with no estimate.
func (l *Limiter) Admit(ctx context.Context, keys []string) (*Ticket, error) {
	return l.AdmitSpend(ctx, keys, Spend{})
}

// AdmitSpend decides one request that is expected to spend about estimate.
// keys[i] is the request's key in the i-th zone given to New; an empty key
// means the zone does not apply to this request.
//
// Zones that meter usage (tokens, prompt or generated tokens, cost) reserve
// the estimate in each of their meters (at least one unit, at most the
// whole bucket or window) and refuse the request when it does not fit; the
// ticket's Settle corrects the reservation to the real usage later.
//
// The request is admitted in every zone or in none: when a zone refuses,
// what the others took is given back before AdmitSpend returns. A leaky
// bucket request, and one waiting for a concurrency slot, waits inside
// AdmitSpend; when ctx ends first it leaves its place at once and is
// refused. One that waited for a slot then has its usage meters read
// again: when the answers settled meanwhile have left one in debt past
// what its reservation fits, the request is refused by it after all.
//
// The error reports a failing store only; nothing is held then.
func (l *Limiter) AdmitSpend(ctx context.Context, keys []string, estimate Spend) (*Ticket, error) {
	t := new(Ticket)
	if err := l.admit(ctx, t, keys, estimate, true, nil); err != nil {
		return nil, err
	}
	return t, nil
}

// admit is AdmitSpend deciding into t, which it resets first (the caller
// says where the ticket lives), or with rates unset the decision of this
// server's concurrency caps alone (shared slots are not asked: their
// store has failed); beforeWait, when set, runs each time the request
// has its place in a line (a leaky bucket's, a concurrency slot's) and is
// about to wait there.
func (l *Limiter) admit(ctx context.Context, t *Ticket, keys []string, estimate Spend, rates bool, beforeWait func()) error {
	if len(keys) != len(l.zones) {
		return fmt.Errorf("limiter: %d keys for %d zones", len(keys), len(l.zones))
	}
	*t = Ticket{Allowed: true}
	t.statuses, t.holds = t.statusBuf[:0], t.holdBuf[:0]
	var lastRaw string
	var lastHash Key
	for i := range l.zones {
		z := &l.zones[i]
		raw := keys[z.index]
		if raw == "" {
			continue
		}
		// Zones usually share their key (the credential): hash it once.
		if raw != lastRaw {
			lastRaw, lastHash = raw, hashRaw(raw)
		}
		t.holds = append(t.holds, hold{zone: z, key: lastHash.salted(z.salt)})
	}
	// Rates first: they decide at once, so a refusal comes before anyone
	// waits.
	var wait time.Duration
	var waiter int
	if rates {
		var err error
		if wait, waiter, err = l.chargeRates(ctx, t, estimate); err != nil {
			return err
		}
	}
	if t.Allowed {
		waited := false
		inLine := func() {
			waited = true
			if beforeWait != nil {
				beforeWait()
			}
		}
		ok, err := l.takeSlots(ctx, t, rates, inLine)
		if err != nil {
			return errors.Join(err, t.giveBack(ctx))
		}
		// Budgets may have run into debt while the request waited.
		if ok && waited && rates {
			if err := l.recheckUsage(ctx, t); err != nil {
				t.releaseSlots()
				return errors.Join(err, t.giveBack(ctx))
			}
			ok = t.Allowed
		}
		if ok && wait > 0 {
			l.waitTurn(ctx, t, wait, waiter, beforeWait)
		}
	}
	return nil
}

// chargeRates charges the request to every rate of every zone, tightest
// zone first, until one refuses: one request to request rates, the
// reservation of estimate to usage rates. Rates whose zones share a
// BatchStore are charged together first, in one go, then decided in the
// same order; what they took past a refusal is given back with the rest.
// It returns the longest leaky bucket wait and the index of that limit's
// status.
func (l *Limiter) chargeRates(ctx context.Context, t *Ticket, estimate Spend) (wait time.Duration, waiter int, err error) {
	batch, takes, err := t.takeBatches(ctx, estimate)
	if err != nil {
		return 0, 0, errors.Join(err, t.giveBack(ctx))
	}
	for i := range t.holds {
		h := &t.holds[i]
		for k := range h.zone.meters {
			m := &h.zone.meters[k]
			if !m.on() {
				continue
			}
			n := m.units(k, estimate)
			c := &h.charges[k]
			var ok bool
			var st Status
			var d time.Duration
			var reset int64
			if j := batchOf(batch, i, k); j >= 0 {
				ok, st, d = h.zone.decided(ctx, m, takes[j])
			} else if ok, st, d, reset, err = h.zone.take(ctx, m, h.key, n); err != nil {
				return 0, 0, errors.Join(err, t.giveBack(ctx))
			}
			c.status = len(t.statuses)
			t.statuses = append(t.statuses, st)
			if !ok {
				l.refuse(ctx, t, c.status, d)
				return 0, 0, nil
			}
			c.n, c.reset = n, reset
			if m.leaky && d > wait {
				wait, waiter = d, c.status
			}
		}
	}
	return wait, waiter, nil
}

// takeSlots takes a slot in every zone with a concurrency cap, waiting
// for one up to the zone's MaxWait: from the zone's shared SlotStore when
// it has one and shared is set, else from this server's InFlight. It
// reports whether all were taken; the error, a failing SlotStore's, leaves
// the slots taken before it held.
func (l *Limiter) takeSlots(ctx context.Context, t *Ticket, shared bool, beforeWait func()) (bool, error) {
	for i := range t.holds {
		h := &t.holds[i]
		z := h.zone
		if z.Concurrency == 0 {
			continue
		}
		var ok bool
		var held int
		if shared && z.Slots != nil {
			lease, n, err := z.acquireShared(ctx, h.key, beforeWait)
			if err != nil {
				t.releaseSlots()
				return false, err
			}
			ok, held, h.lease = lease != "", n, lease
		} else {
			ok, held = z.InFlight.acquire(ctx, h.key, z.Concurrency, z.MaxWait, beforeWait)
		}
		h.slot = ok
		t.statuses = append(t.statuses, Status{
			Zone: z.Name, Kind: KindConcurrency,
			Limit: int64(z.Concurrency), Remaining: int64(max(z.Concurrency-held, 0)),
		})
		if !ok {
			// Slots free when answers end, which cannot be foreseen; a
			// second is a fair guess and what clients round to anyway.
			l.refuse(ctx, t, len(t.statuses)-1, time.Second)
			return false, nil
		}
	}
	return true, nil
}

// waitTurn holds a leaky bucket request until its turn to leave. One
// whose ctx ends first leaves the queue, giving its place back.
func (l *Limiter) waitTurn(ctx context.Context, t *Ticket, wait time.Duration, waiter int, beforeWait func()) {
	if q := l.queue(t.statuses[waiter].Zone); q != nil {
		q.Add(1)
		defer q.Add(-1)
	}
	if beforeWait != nil {
		beforeWait()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		l.refuse(ctx, t, waiter, 0)
	}
}

// refuse turns t into a refusal by the limit of t.statuses[i]. A charge
// that cannot be given back does not change the decision, so its error goes
// to OnError.
func (l *Limiter) refuse(ctx context.Context, t *Ticket, i int, retry time.Duration) {
	if err := t.refuse(ctx, i, retry); err != nil && l.opts.OnError != nil {
		l.opts.OnError(err)
	}
}

// queue returns the count of requests waiting in the leaky bucket of the
// zone named name.
func (l *Limiter) queue(name string) *atomic.Int64 {
	for i := range l.zones {
		if l.zones[i].Name == name {
			return l.zones[i].waiting
		}
	}
	return nil
}

// Waiting calls fn with the number of requests waiting their turn in each
// leaky bucket zone, for a queue-depth gauge.
func (l *Limiter) Waiting(fn func(zone string, n int64)) {
	for i := range l.zones {
		if z := &l.zones[i]; z.Algorithm == LeakyBucket {
			fn(z.Name, z.waiting.Load())
		}
	}
}
