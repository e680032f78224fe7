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
	if z.Algorithm == FixedWindow {
		return z.takeWindow(ctx, m, key.salted(m.tweak), n)
	}
	tk := m.charge(key, n)
	tk.Decision, err = z.Buckets.Take(ctx, tk.Key, tk.Cost, tk.Limit, tk.Slack)
	if err != nil {
		return false, st, 0, 0, fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	ok, st, d = z.decided(ctx, m, tk)
	return ok, st, d, 0, nil
}

// charge is the Take of n units of bucket meter m for key.
func (m *meter) charge(key Key, n int64) BatchTake {
	cost := m.cost(n)
	return BatchTake{Key: key.salted(m.tweak), Cost: cost, Limit: m.limit(cost), Slack: Slack(m.interval)}
}

// decided reads the outcome of the charge tk of the zone's meter m, its key
// salted for m, as take returns it.
func (z *zone) decided(ctx context.Context, m *meter, tk BatchTake) (ok bool, st Status, d time.Duration) {
	dec := tk.Decision
	st = Status{Zone: z.Name, Kind: m.kind, Limit: m.rate.Count, Window: m.rate.Per}
	if !dec.Allowed {
		st.Reset = dec.Wait
		return false, st, z.promise(ctx, tk.Key, dec.Backlog-tk.Limit, tk.Cost)
	}
	st.Reset = dec.Backlog
	st.Remaining = int64((tk.Limit - dec.Backlog) / m.interval)
	return true, st, dec.Wait
}

// adjust corrects a charge of the zone's meter m to key by delta units:
// negative gives units back, positive adds debt. reset is the charge's
// window, for fixed_window.
func (z *zone) adjust(ctx context.Context, m *meter, key Key, delta, reset int64) error {
	key = key.salted(m.tweak)
	if z.Algorithm == FixedWindow {
		return z.adjustWindow(ctx, m, key, delta, reset)
	}
	if err := z.Buckets.Adjust(ctx, key, m.shift(delta)); err != nil {
		return fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	return nil
}

// shift is the time delta units move a bucket's TAT by.
func (m *meter) shift(delta int64) time.Duration {
	d := m.cost(max(delta, -delta))
	if delta < 0 {
		d = -d
	}
	return d
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
// no room. The slack (half of cost, at most 250ms) absorbs that: on a
// busy server a client's timer and its request's way in can take a
// quarter of a 500ms interval.
func (z *zone) promise(ctx context.Context, key Key, after, cost time.Duration) time.Duration {
	hold := cost + min(cost/2, 250*time.Millisecond)
	horizon := min(MaxSDKWait, after+maxTurns*hold)
	wait, err := z.Buckets.Promise(ctx, key.salted(promiseTweak), after, hold, horizon)
	if err != nil {
		return after
	}
	return wait
}
