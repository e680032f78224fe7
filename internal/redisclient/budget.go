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

// bound returns ctx with the command's deadline and the function that
// ends the command, counting its time against the request's budget; the
// error when nothing is left.
func (h timeoutHook) bound(ctx context.Context) (context.Context, func(), error) {
	limit := time.Duration(h)
	b, _ := ctx.Value(budgetKey{}).(*budget)
	if b != nil {
		if limit -= time.Duration(b.spent.Load()); limit <= 0 {
			return nil, nil, ErrBudgetSpent
		}
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	if b == nil {
		return ctx, cancel, nil
	}
	start := time.Now()
	return ctx, func() {
		cancel()
		b.spent.Add(int64(time.Since(start)))
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
