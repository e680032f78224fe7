package redisclient

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrBudgetSpent is the error of a command made once its request has
// spent its Redis time: it is not sent.
var ErrBudgetSpent = errors.New("redis: the request's time for redis is spent")

// budget is the Redis time one request has spent, shared by every command
// made with its context, whichever store (and client) makes it.
type budget struct{ spent atomic.Int64 }

type budgetKey struct{}

// WithBudget returns ctx carrying one Redis time budget for a request, or
// ctx itself when it carries one already. Every command made with it (or
// a context derived from it) draws on the same budget: a request that
// meets Redis in several handlers waits on it CommandTimeout in all, not
// CommandTimeout in each. Without it, each command has CommandTimeout of
// its own.
func WithBudget(ctx context.Context) context.Context {
	if _, ok := ctx.Value(budgetKey{}).(*budget); ok {
		return ctx
	}
	return context.WithValue(ctx, budgetKey{}, new(budget))
}

// timeoutHook bounds every command and pipeline to what is left of the
// request's budget, or to the whole budget when the context has none.
type timeoutHook time.Duration

// left is what is left of limit for a command made with ctx, and the
// request's budget it draws on (nil when ctx carries none).
func left(ctx context.Context, limit time.Duration) (time.Duration, *budget) {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	if b != nil {
		limit -= time.Duration(b.spent.Load())
	}
	return limit, b
}

// spend counts the time since start against b, when there is one.
func (b *budget) spend(start time.Time) {
	if b != nil {
		b.spent.Add(int64(time.Since(start)))
	}
}

// bound returns ctx with the command's deadline and the function that
// ends the command, counting its time against the request's budget; the
// error when nothing is left.
func (h timeoutHook) bound(ctx context.Context) (context.Context, func(), error) {
	limit, b := left(ctx, time.Duration(h))
	if limit <= 0 {
		return nil, nil, ErrBudgetSpent
	}
	// The clock is read before the deadline is set from it: a command
	// that runs until its deadline then spends the whole of what was
	// left, not all of it but the instant between the two readings.
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(limit))
	return ctx, func() {
		cancel()
		b.spend(start)
	}, nil
}

// DialHook implements redis.Hook.
func (h timeoutHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h timeoutHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, done, err := h.bound(ctx)
		if err != nil {
			return err
		}
		defer done()
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (h timeoutHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, done, err := h.bound(ctx)
		if err != nil {
			for _, cmd := range cmds {
				cmd.SetErr(err)
			}
			return err
		}
		defer done()
		return next(ctx, cmds)
	}
}

// ErrTimeout is the error of a wait for a shared round trip (see Await)
// that outlasted what the request had left.
var ErrTimeout = errors.New("redis: no answer within the command timeout")

// Await waits for done, the end of a round trip that the request of ctx
// shares with others, as long as a command of its own could take: what
// is left of its budget (see WithBudget), or the CommandTimeout. The wait
// counts against the budget. It returns ctx's error if ctx ends first.
func (c *Client) Await(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if c.budget > 0 {
		limit, b := left(ctx, c.budget)
		if limit <= 0 {
			return ErrBudgetSpent
		}
		defer b.spend(time.Now()) // before the timer starts, as in bound
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return ErrTimeout
	}
}
