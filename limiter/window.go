package limiter

import (
	"context"
	"fmt"
	"time"
)

// takeWindow counts one request in the fixed window of key. A refused
// request is not counted, so the count never runs past the limit.
func (z *zone) takeWindow(ctx context.Context, key Key) (allowed bool, st Status, err error) {
	res, err := z.Windows.Increment(ctx, key.String(), 1, z.window)
	if err != nil {
		return false, st, fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
	}
	st = Status{Zone: z.Name, Kind: KindRequests, Limit: res.Limit, Remaining: res.Remaining, Window: z.Requests.Per}
	// ulule reports the window's end in whole seconds, cut down; the end
	// lies before the next second, and a reset a little late is better
	// than a retry that comes too early.
	st.Reset = max(time.Until(time.Unix(res.Reset+1, 0)), 0)
	if res.Reached {
		return false, st, z.giveBackWindow(ctx, key)
	}
	return true, st, nil
}

// giveBackWindow uncounts one request of key.
func (z *zone) giveBackWindow(ctx context.Context, key Key) error {
	res, err := z.Windows.Increment(ctx, key.String(), -1, z.window)
	if err != nil {
		return fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
	}
	// When the window ended in between, the decrement opened a new window
	// below zero, which would admit one request too many: add it back.
	if res.Remaining > res.Limit {
		if _, err := z.Windows.Increment(ctx, key.String(), 1, z.window); err != nil {
			return fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
		}
	}
	return nil
}
