package redisstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// Takes of concurrent requests share round trips: while one round trip of
// a Store is out, the takes that arrive queue, and go together in the
// next, as soon as it returns. Under load a server then runs one script
// for many requests rather than one each, and a request waits at most
// one round trip more; alone, a request goes at once.

// takeRun is the takes of one round trip and, once done is closed, their
// outcomes.
type takeRun struct {
	takes []limiter.BatchTake
	// errs is nil when every take succeeded, else one error a take.
	errs []error
	done chan struct{}
}

// group queues the takes of a Store for its round trips.
type group struct {
	mu sync.Mutex
	// next gathers the takes that arrive while a round trip is out.
	next *takeRun
	// sending is whether a goroutine sends the runs.
	sending bool
}

// take adds takes to the next run, starts a sender when none is at work,
// and returns the run and where the takes lie in it.
func (g *group) take(takes []limiter.BatchTake, send func(*takeRun)) (*takeRun, int) {
	g.mu.Lock()
	r := g.next
	if r == nil {
		r = &takeRun{done: make(chan struct{})}
		g.next = r
	}
	off := len(r.takes)
	r.takes = append(r.takes, takes...)
	start := !g.sending
	g.sending = true
	g.mu.Unlock()
	if start {
		go g.sendAll(send)
	}
	return r, off
}

// sendAll sends the queued runs one after another until none is left.
func (g *group) sendAll(send func(*takeRun)) {
	for {
		g.mu.Lock()
		r := g.next
		g.next = nil
		if r == nil {
			g.sending = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		send(r)
		close(r.done)
	}
}

// fail sets err as the outcome of the run's take i.
func (r *takeRun) fail(i int, err error) {
	if r.errs == nil {
		r.errs = make([]error, len(r.takes))
	}
	r.errs[i] = err
}

// TakeMany implements limiter.BatchStore. The takes go in the Store's
// next round trip, with those of other requests: on one server, one
// script run for all, each take still its own atomic step in turn; on a
// cluster, one pipeline, one run a key (a script's keys share a hash
// slot). The wait is bounded by Options.Waiter, or by ctx alone.
func (s *Store) TakeMany(ctx context.Context, takes []limiter.BatchTake) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis rate-limit store: take: %w", err)
	}
	r, off := s.group.take(takes, s.send)
	if err := s.await(ctx, r.done); err != nil {
		// The run may still charge the takes: a request that gave up
		// errs toward refusing, as after any timeout.
		return fmt.Errorf("redis rate-limit store: take: %w", err)
	}
	var first error
	for i := range takes {
		takes[i].Decision = r.takes[off+i].Decision
		if r.errs != nil && r.errs[off+i] != nil && first == nil {
			first = fmt.Errorf("redis rate-limit store: take: %w", r.errs[off+i])
		}
	}
	return first
}

// await waits for done within the Waiter's bound.
func (s *Store) await(ctx context.Context, done <-chan struct{}) error {
	if s.waiter != nil {
		return s.waiter.Await(ctx, done)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send makes the round trip of r, on no request's context: a request
// that leaves must not fail the others. The client's own timeouts bound
// it.
func (s *Store) send(r *takeRun) {
	ctx := context.Background()
	if !s.oneServer {
		cmds := s.pipelined(ctx, takeScript, len(r.takes), func(i int) ([]string, []any) {
			t := &r.takes[i]
			return []string{s.redisKey(t.Key)}, s.args(int64(t.Cost), int64(t.Limit), int64(t.Slack))
		})
		for i, cmd := range cmds {
			if err := decisions(cmd, r.takes[i:i+1]); err != nil {
				r.fail(i, err)
			}
		}
		return
	}
	keys := make([]string, len(r.takes))
	ns := make([]int64, 0, 3*len(r.takes))
	for i, t := range r.takes {
		keys[i] = s.redisKey(t.Key)
		ns = append(ns, int64(t.Cost), int64(t.Limit), int64(t.Slack))
	}
	if err := decisions(takeScript.Run(ctx, s.rdb, keys, s.args(ns...)...), r.takes); err != nil {
		for i := range r.takes {
			r.fail(i, err)
		}
	}
}
