package limiter

import (
	"context"
	"fmt"
	"time"
)

// take charges one request to key under the zone's request rate. When
// admitted, d is how long the request waits for its turn (leaky bucket);
// when refused, how long until it would be admitted.
func (z *zone) take(ctx context.Context, key Key) (ok bool, st Status, d time.Duration, err error) {
	if z.Algorithm == FixedWindow {
		ok, st, err = z.takeWindow(ctx, key)
		return ok, st, st.Reset, err
	}
	dec, err := z.Buckets.Take(ctx, key, z.interval, z.tolerance)
	if err != nil {
		return false, st, 0, fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	st = Status{Zone: z.Name, Kind: KindRequests, Limit: z.Requests.Count, Window: z.Requests.Per}
	if !dec.Allowed {
		st.Reset = dec.Wait
		return false, st, dec.Backlog - z.tolerance, nil
	}
	st.Reset = dec.Backlog
	st.Remaining = int64((z.tolerance - dec.Backlog) / z.interval)
	return true, st, dec.Wait, nil
}

// giveBackBucket returns one request's charge to key's bucket.
func (z *zone) giveBackBucket(ctx context.Context, key Key) error {
	if err := z.Buckets.Adjust(ctx, key, -z.interval); err != nil {
		return fmt.Errorf("limiter: zone %q: bucket store: %w", z.Name, err)
	}
	return nil
}
