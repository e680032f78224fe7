package limiter

import (
	"context"
	"fmt"
)

// Peek returns the state of every rate of the zone named name for the key
// raw (the value the zone's key gives a request, hashed as Admit hashes
// it): what a request would find, with nothing charged. A bucket in debt
// has nothing remaining, and its Reset is when its debt is paid and the
// bucket full. ok is false when the Limiter has no such zone.
func (l *Limiter) Peek(ctx context.Context, name, raw string) (sts []Status, ok bool, err error) {
	var z *zone
	for i := range l.zones {
		if l.zones[i].Name == name {
			z = &l.zones[i]
		}
	}
	if z == nil {
		return nil, false, nil
	}
	key := hashRaw(raw).salted(z.salt)
	for k := range z.meters {
		m := &z.meters[k]
		if !m.on() {
			continue
		}
		st, err := z.peek(ctx, m, key.salted(m.tweak))
		if err != nil {
			return nil, true, err
		}
		sts = append(sts, st)
	}
	return sts, true, nil
}

// peek reads the state of meter m for key.
func (z *zone) peek(ctx context.Context, m *meter, key Key) (Status, error) {
	st := Status{Zone: z.Name, Kind: m.kind, Limit: m.rate.Count, Window: m.rate.Per}
	if z.Algorithm == FixedWindow {
		res, err := z.Windows.Peek(ctx, key.String(), m.window)
		if err != nil {
			return st, fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
		}
		st.Remaining = res.Remaining
		if res.Remaining < res.Limit {
			st.Reset = untilEnd(res.Reset)
		}
		return st, nil
	}
	dec, err := z.Buckets.Take(ctx, key, 0, maxHorizon, 0)
	if err != nil {
		return st, fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	st.Reset = dec.Backlog
	st.Remaining = max(int64((m.depth-dec.Backlog)/m.interval), 0)
	return st, nil
}
