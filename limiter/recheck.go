package limiter

import (
	"context"
	"fmt"
	"time"
)

// recheckUsage reads again the usage meters (tokens, cost) a request
// reserved in, once it has waited for a concurrency slot: while it
// waited, the answers of the requests ahead of it may have settled past
// their reservations and left a meter in debt, and a request admitted
// before that debt would otherwise spend past the budget. A meter its
// reservation no longer fits in refuses it, as that meter would refuse it
// now, and everything it holds is given back; request rates are not read
// again. The error reports a failing store, the decision then unmade.
func (l *Limiter) recheckUsage(ctx context.Context, t *Ticket) error {
	for i := range t.holds {
		h := &t.holds[i]
		for k := tokenMeter; k < numMeters; k++ {
			c := &h.charges[k]
			if c.n == 0 {
				continue
			}
			ok, st, retry, err := h.zone.stillFits(ctx, &h.zone.meters[k], h.key, c)
			if err != nil {
				return err
			}
			if !ok {
				l.refuse(ctx, t, c.status, retry)
				// Set after the give-back, which would count the
				// reservation as remaining: like a refusal at
				// admission, none is.
				t.statuses[c.status] = st
				return nil
			}
		}
	}
	return nil
}

// stillFits reports whether charge c, held in the zone's usage meter m
// for key, still fits in it: whether the meter, read now with c in it,
// would admit c. When not, st and retry are those of its refusal.
//
// A leaky bucket always fits: a request in one has its turn, and the
// backlog of the requests queued behind it cannot be told from debt. A
// window that has moved on since the charge holds none of it.
func (z *zone) stillFits(ctx context.Context, m *meter, key Key, c *charge) (ok bool, st Status, retry time.Duration, err error) {
	switch {
	case m.leaky:
		return true, st, 0, nil
	case z.Algorithm == FixedWindow:
		res, err := z.Windows.Peek(ctx, key.salted(m.tweak).String(), m.window)
		if err != nil {
			return false, st, 0, fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
		}
		if !res.Reached || windowMoved(res.Reset, c.reset, m.rate.Per) {
			return true, st, 0, nil
		}
		st = Status{Zone: z.Name, Kind: m.kind, Limit: res.Limit, Window: m.rate.Per, Reset: untilEnd(res.Reset)}
		return false, st, st.Reset, nil
	}
	tk := m.charge(key, c.n)
	// A charge of nothing reads the backlog, the reservation in it.
	dec, err := z.Buckets.Take(ctx, tk.Key, 0, maxHorizon, 0)
	if err != nil {
		return false, st, 0, fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	if dec.Backlog <= tk.Limit {
		return true, st, 0, nil
	}
	tk.Decision = Decision{Wait: dec.Backlog - tk.Cost, Backlog: dec.Backlog}
	_, st, retry = z.decided(ctx, m, tk)
	return false, st, retry, nil
}
