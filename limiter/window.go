package limiter

import (
	"context"
	"fmt"
	"time"
)

// takeWindow counts n units of meter m in the fixed window of key. A
// refused request is not counted, so the count never runs past the limit
// on account of refusals.
func (z *zone) takeWindow(ctx context.Context, m *meter, key Key, n int64) (allowed bool, st Status, d time.Duration, reset int64, err error) {
	res, err := z.Windows.Increment(ctx, key.String(), n, m.window)
	if err != nil {
		return false, st, 0, 0, fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
	}
	st = Status{Zone: z.Name, Kind: m.kind, Limit: res.Limit, Remaining: res.Remaining, Window: m.rate.Per, Reset: untilEnd(res.Reset)}
	if res.Reached {
		return false, st, st.Reset, res.Reset, z.adjustWindow(ctx, m, key, -n, res.Reset)
	}
	return true, st, 0, res.Reset, nil
}

// untilEnd is the time until a window that ends at reset (Unix seconds,
// as ulule reports it) is over. ulule cuts the end down to whole seconds;
// the end lies before the next second, and a reset a little late is
// better than a retry that comes too early.
func untilEnd(reset int64) time.Duration {
	return max(time.Until(time.Unix(reset+1, 0)), 0)
}

// adjustWindow adds delta units to the count of key, charged in the window
// that ends at reset (Unix seconds). Debt lands in the current window. A
// give-back that lands in a newer window is undone: what it returns was
// spent in a window that is over, and giving it to the new one would admit
// more than the limit.
func (z *zone) adjustWindow(ctx context.Context, m *meter, key Key, delta, reset int64) error {
	k := key.String()
	res, err := z.Windows.Increment(ctx, k, delta, m.window)
	if err == nil && delta < 0 && (res.Remaining > res.Limit || windowMoved(res.Reset, reset, m.rate.Per)) {
		_, err = z.Windows.Increment(ctx, k, -delta, m.window)
	}
	if err != nil {
		return fmt.Errorf("limiter: zone %q: window store: %w", z.Name, err)
	}
	return nil
}

// windowMoved reports whether a window ending at now (Unix seconds) is a
// later one than a window of period per ending at then. Stores round a
// window's end to the second, so one window may read a second apart; a
// later window ends at least a period later. A period too short to tell
// them apart is caught by its count falling below zero instead.
func windowMoved(now, then int64, per time.Duration) bool {
	d := time.Duration(now-then) * time.Second
	return d > time.Second && d >= per/2
}
