package limiter

import (
	"context"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
	"github.com/llmgate/caddy-llmgate/usage"
)

// maxUsage bounds the units one request is charged in a meter, far beyond
// any real answer, so that a corrupt usage report cannot overflow a
// store's count.
const maxUsage = 1 << 32

// Spend is what a request spends, or is expected to, in each unit zones
// meter beside requests.
type Spend struct {
	// Tokens is all LLM tokens: prompt and generated.
	Tokens int64
	// Input is the prompt tokens.
	Input int64
	// Output is the generated tokens.
	Output int64
	// Cost is the usage priced per model, in microdollars.
	Cost int64
}

// of returns the units of spend meter k counts.
func (s *Spend) of(k int) int64 {
	switch k {
	case tokenMeter:
		return s.Tokens
	case inputMeter:
		return s.Input
	case outputMeter:
		return s.Output
	case costMeter:
		return s.Cost
	}
	return 1 // requestMeter: the request itself
}

// reserve is the units to reserve for a request estimated to spend
// estimate: at least one, since any answer spends some, and at most a whole
// bucket (or window), so that a request larger than the bucket is admitted
// when the bucket is full rather than never. What it spends beyond the
// reservation becomes debt at Settle.
func (m *meter) reserve(estimate int64) int64 {
	return min(max(estimate, 1), m.rate.Count)
}

// units is what a request charges meter m, the k-th of its zone, at
// admission: itself, or the reservation of estimate.
func (m *meter) units(k int, estimate Spend) int64 {
	if k == requestMeter {
		return 1
	}
	return m.reserve(estimate.of(k))
}

// Settle corrects what the request reserved in every zone that meters
// usage (tokens, prompt or generated tokens, cost) to used, what its answer
// really spent. Spending more than the reservation leaves debt: the bucket
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
func (t *Ticket) Settle(ctx context.Context, used Spend) error {
	if !t.settled.CompareAndSwap(false, true) {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	// Corrections of zones that share a BatchStore go in one round trip.
	delta := func(h *hold, k int) int64 { return min(max(used.of(k), 0), maxUsage) - h.charges[k].n }
	bs := t.batches(func(h *hold, k int) bool { return k != requestMeter && h.charges[k].n != 0 && delta(h, k) != 0 })
	first := t.adjustBatches(ctx, bs, delta)
	for _, b := range bs {
		t.holds[b.h].charges[b.k].n = 0
	}
	for i := range t.holds {
		h := &t.holds[i]
		for k := tokenMeter; k < numMeters; k++ {
			c := &h.charges[k]
			if c.n == 0 {
				continue
			}
			if d := delta(h, k); d != 0 {
				if err := h.zone.adjust(ctx, &h.zone.meters[k], h.key, d, c.reset); err != nil && first == nil {
					first = err
				}
			}
			c.n = 0
		}
	}
	return first
}

// Refund gives back the whole reservation: for an answer that spent
// nothing, such as an upstream error or a client that left before any
// output. It is Settle with no usage.
func (t *Ticket) Refund(ctx context.Context) error { return t.Settle(ctx, Spend{}) }

// estimateSpend is what a request with fields f may spend, priced at p:
// its prompt (usage.Prompt) and the most output it allows (none when it
// sets no cap), every prompt token at the full input price.
func estimateSpend(f *llmreq.Fields, p pricing.Price) Spend {
	var out int64
	if f != nil {
		out = f.MaxOutputTokens
	}
	in := usage.Prompt(f)
	return Spend{Tokens: usage.Estimate(f), Input: in, Output: out, Cost: int64(p.Estimate(in, out))}
}

// spent is what the answer cost, its usage u priced as the writer's
// request is, and sets the report's cost.
func (w *meterWriter) spent(rep *Report) Spend {
	u := rep.Usage
	s := Spend{Tokens: u.Total, Input: u.Input, Output: u.Output}
	if w.priced {
		rep.Cost = w.price.Cost(u)
		s.Cost = int64(rep.Cost)
	}
	return s
}
