package limiter

import (
	"context"
	"fmt"
	"slices"
)

// batched is one charge of a ticket that goes to its store in a batch:
// meter k of holds[h], kept by store.
type batched struct {
	h, k  int
	store BatchStore
}

// batches lists the charges sel picks whose zones keep them in one
// BatchStore with another of them, grouped by store: each store's charges
// are together, in the order of the holds. A charge alone in its store,
// or in a fixed window, goes on its own.
func (t *Ticket) batches(sel func(h *hold, k int) bool) []batched {
	n, candidates := len(t.holds)*numMeters, 0
	for i := range n {
		if t.batchStore(i, sel) != nil {
			candidates++
		}
	}
	if candidates < 2 {
		return nil
	}
	out := make([]batched, 0, candidates)
	for i := range n {
		s := t.batchStore(i, sel)
		if s == nil || slices.ContainsFunc(out, func(b batched) bool { return b.store == s }) {
			continue
		}
		start := len(out)
		for j := i; j < n; j++ {
			if t.batchStore(j, sel) == s {
				out = append(out, batched{h: j / numMeters, k: j % numMeters, store: s})
			}
		}
		if len(out)-start < 2 {
			out = out[:start]
		}
	}
	return out
}

// batchStore returns the BatchStore of the i-th charge of the ticket (meter
// i%numMeters of hold i/numMeters) when sel picks it and it is a bucket's;
// else nil.
func (t *Ticket) batchStore(i int, sel func(h *hold, k int) bool) BatchStore {
	h, k := &t.holds[i/numMeters], i%numMeters
	if h.zone.batch == nil || !sel(h, k) {
		return nil
	}
	return h.zone.batch
}

// batchOf returns the index in bs of meter k of holds[h], or -1.
func batchOf(bs []batched, h, k int) int {
	for i, b := range bs {
		if b.h == h && b.k == k {
			return i
		}
	}
	return -1
}

// eachStore calls fn with the bounds in bs of each store's charges.
func eachStore(bs []batched, fn func(from, to int) error) error {
	for from := 0; from < len(bs); {
		to := from + 1
		for to < len(bs) && bs[to].store == bs[from].store {
			to++
		}
		if err := fn(from, to); err != nil {
			return err
		}
		from = to
	}
	return nil
}

// takeBatches charges at once the rates of the request that share a
// BatchStore, before chargeRates decides them in order: one round trip
// for them all. A charge taken is held at once (with no status yet), so
// that whatever refuses later gives it back. It returns the charges
// batched and their takes, in the same order.
func (t *Ticket) takeBatches(ctx context.Context, estimate Spend) ([]batched, []BatchTake, error) {
	bs := t.batches(func(h *hold, k int) bool { return h.zone.meters[k].on() })
	if len(bs) == 0 {
		return nil, nil, nil
	}
	takes := make([]BatchTake, len(bs))
	for i, b := range bs {
		h := &t.holds[b.h]
		m := &h.zone.meters[b.k]
		takes[i] = m.charge(h.key, m.units(b.k, estimate))
	}
	err := eachStore(bs, func(from, to int) error {
		err := bs[from].store.TakeMany(ctx, takes[from:to])
		for i := from; i < to; i++ {
			if takes[i].Decision.Allowed {
				h := &t.holds[bs[i].h]
				c := &h.charges[bs[i].k]
				c.n, c.status = h.zone.meters[bs[i].k].units(bs[i].k, estimate), -1
			}
		}
		if err != nil {
			return fmt.Errorf("limiter: zone %q: bucket store: %w", t.holds[bs[from].h].zone.Name, err)
		}
		return nil
	})
	return bs, takes, err
}

// giveBackBatches gives back at once the charges held that share a
// BatchStore; giveBack returns the others one by one.
func (t *Ticket) giveBackBatches(ctx context.Context) error {
	bs := t.batches(func(h *hold, k int) bool { return h.charges[k].n != 0 })
	err := t.adjustBatches(ctx, bs, func(h *hold, k int) int64 { return -h.charges[k].n })
	for _, b := range bs {
		t.returned(&t.holds[b.h].charges[b.k])
	}
	return err
}

// adjustBatches moves the charges bs by delta units each, one AdjustMany
// a store. It keeps going past a failing store, so that the others are
// corrected, and returns the first error.
func (t *Ticket) adjustBatches(ctx context.Context, bs []batched, delta func(h *hold, k int) int64) error {
	if len(bs) == 0 {
		return nil
	}
	adjusts := make([]BatchAdjust, len(bs))
	for i, b := range bs {
		h := &t.holds[b.h]
		m := &h.zone.meters[b.k]
		adjusts[i] = BatchAdjust{Key: h.key.salted(m.tweak), Delta: m.shift(delta(h, b.k))}
	}
	var first error
	_ = eachStore(bs, func(from, to int) error {
		if err := bs[from].store.AdjustMany(ctx, adjusts[from:to]); err != nil && first == nil {
			first = fmt.Errorf("limiter: zone %q: bucket store: %w", t.holds[bs[from].h].zone.Name, err)
		}
		return nil
	})
	return first
}
