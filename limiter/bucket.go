package limiter

import (
	"context"
	"fmt"
	"time"
)

// take charges n units of the zone's meter m to key. When admitted, d is
// how long the request waits for its turn (leaky bucket); when refused, how
// long until it would be admitted. reset is the end of a fixed window in
// Unix seconds, for a later correction to know its window.
func (z *zone) take(ctx context.Context, m *meter, key Key, n int64) (ok bool, st Status, d time.Duration, reset int64, err error) {
	key = key.salted(m.tweak)
	if z.Algorithm == FixedWindow {
		return z.takeWindow(ctx, m, key, n)
	}
	cost := m.cost(n)
	limit := m.limit(cost)
	dec, err := z.Buckets.Take(ctx, key, cost, limit)
	if err != nil {
		return false, st, 0, 0, fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	st = Status{Zone: z.Name, Kind: m.kind, Limit: m.rate.Count, Window: m.rate.Per}
	if !dec.Allowed {
		st.Reset = dec.Wait
		return false, st, z.promise(ctx, key, dec.Backlog-limit, cost), 0, nil
	}
	st.Reset = dec.Backlog
	st.Remaining = int64((limit - dec.Backlog) / m.interval)
	return true, st, dec.Wait, 0, nil
}

// adjust corrects a charge of the zone's meter m to key by delta units:
// negative gives units back, positive adds debt. reset is the charge's
// window, for fixed_window.
func (z *zone) adjust(ctx context.Context, m *meter, key Key, delta, reset int64) error {
	key = key.salted(m.tweak)
	if z.Algorithm == FixedWindow {
		return z.adjustWindow(ctx, m, key, delta, reset)
	}
	d := m.cost(max(delta, -delta))
	if delta < 0 {
		d = -d
	}
	if err := z.Buckets.Adjust(ctx, key, d); err != nil {
		return fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	return nil
}

// maxTurns bounds the turns promised ahead of a refusal: room for a few
// dozen clients of one key waiting together.
const maxTurns = 24

// promiseTweak sets a bucket's promises apart from the bucket.
var promiseTweak = hashRaw("promise")

// promise returns when a request the bucket of key refused should come
// back: after the turns promised to the refusals before it (see
// BucketStore.Promise), so that clients retrying as told come back one
// at a time and are admitted as the bucket refills, instead of waking
// together and all but one failing again. Turns are promised at most
// maxTurns beyond the bucket's own wait, and MaxSDKWait ahead (further,
// clients do not wait as told anyway); past that a refusal is told the
// bucket's own wait. A turn whose client never comes back passes
// unclaimed (the store cannot tell it from one claimed), so that bound
// is also how far a flood of refusals on a shared key can push the turns
// of the key's other clients. When the store fails, the request is told
// the bucket's own wait.
//
// Turns are a little more than cost apart. A client comes back a little
// late, by the time its answer took to reach it and its timer to fire;
// admitted late, it moves the bucket's next room later by as much, and
// without burst to absorb that, the next client, less late, would find
// no room. The slack (a quarter of cost, at most 250ms) absorbs that.
func (z *zone) promise(ctx context.Context, key Key, after, cost time.Duration) time.Duration {
	hold := cost + min(cost/4, 250*time.Millisecond)
	horizon := min(MaxSDKWait, after+maxTurns*hold)
	wait, err := z.Buckets.Promise(ctx, key.salted(promiseTweak), after, hold, horizon)
	if err != nil {
		return after
	}
	return wait
}
