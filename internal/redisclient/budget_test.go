package redisclient

import (
	"context"
	"testing"
	"time"
)

// A command that runs until its deadline spends all that was left of its
// request's budget: the next command of the request fails at once with
// ErrBudgetSpent, and a wait for a shared round trip too, rather than
// trying within the instant that would otherwise be left over.
func TestBudgetRunToItsDeadlineIsSpent(t *testing.T) {
	h := timeoutHook(20 * time.Millisecond)
	for range 50 {
		ctx := WithBudget(context.Background())
		cmdCtx, done, err := h.bound(ctx)
		if err != nil {
			t.Fatal(err)
		}
		<-cmdCtx.Done()
		done()
		if _, _, err := h.bound(ctx); err != ErrBudgetSpent {
			t.Fatalf("after a command ran to its deadline, the next one got %v, want ErrBudgetSpent", err)
		}
		c := &Client{budget: time.Duration(h)}
		if err := c.Await(ctx, make(chan struct{})); err != ErrBudgetSpent {
			t.Fatalf("after a command ran to its deadline, a wait got %v, want ErrBudgetSpent", err)
		}
	}
}
