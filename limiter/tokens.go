package limiter

import "context"

// maxUsage bounds the tokens one request is charged, far beyond any real
// answer, so that a corrupt usage report cannot overflow a store's count.
const maxUsage = 1 << 32

// reserve is the tokens to reserve for a request estimated to spend
// estimate: at least one, since any answer spends some, and at most a whole
// bucket (or window), so that a request larger than the bucket is admitted
// when the bucket is full rather than never. What it spends beyond the
// reservation becomes debt at Settle.
func (m *meter) reserve(estimate int64) int64 {
	return min(max(estimate, 1), m.rate.Count)
}

// Settle corrects the tokens the request reserved in every zone with a
// token rate to used, the tokens its answer really spent (prompt and
// completion). Spending more than the reservation leaves debt: the bucket
// may run below empty, and the key's next requests are refused (or, in a
// leaky bucket, wait) until it has refilled. Spending less gives the rest
// back. A fixed window takes debt in its current window and gives back only
// to the window the reservation was counted in.
//
// Only the first call of Settle or Refund counts; later ones, and calls on
// a refused ticket, do nothing. Settle works after the request's context
// has ended. A ticket never settled keeps its reservation: the estimate is
// then the charge. The error reports a failing store; the other zones are
// corrected regardless.
func (t *Ticket) Settle(ctx context.Context, used int64) error {
	if !t.settled.CompareAndSwap(false, true) {
		return nil
	}
	used = min(max(used, 0), maxUsage)
	ctx = context.WithoutCancel(ctx)
	var first error
	for i := range t.holds {
		h := &t.holds[i]
		c := &h.charges[tokenMeter]
		if c.n == 0 {
			continue
		}
		if delta := used - c.n; delta != 0 {
			if err := h.zone.adjust(ctx, &h.zone.meters[tokenMeter], h.key, delta, c.reset); err != nil && first == nil {
				first = err
			}
		}
		c.n = 0
	}
	return first
}

// Refund gives back the whole token reservation: for an answer that spent
// nothing, such as an upstream error or a client that left before any
// output. It is Settle with no usage.
func (t *Ticket) Refund(ctx context.Context) error { return t.Settle(ctx, 0) }
