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
// one round trip more; alone, a request sends its own, on its own
// goroutine and context.

// takeRun is the takes of one round trip and, once done is closed, their
// outcomes.
type takeRun struct {
	takes []limiter.BatchTake
	// errs is nil when every take succeeded, else one error a take.
	errs []error
	done chan struct{}
	// sent is set, under the group's lock, once the run is taken to be
	// sent: from then on its takes may be charged. Until then a request
	// that stops waiting withdraws its takes (see group.leave).
	sent bool
}

// group queues the takes of a Store for its round trips.
type group struct {
	mu sync.Mutex
	// next gathers the takes that arrive while a round trip is out.
	next *takeRun
	// busy is whether a round trip is out.
	busy bool
}

// join returns nil, 0 when no round trip is out: the caller then sends its
// takes itself and calls done after. Otherwise it adds takes to the next
// run and returns the run and where they lie in it.
func (g *group) join(takes []limiter.BatchTake) (*takeRun, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.busy {
		g.busy = true
		return nil, 0
	}
	r := g.next
	if r == nil {
		r = &takeRun{done: make(chan struct{})}
		g.next = r
	}
	off := len(r.takes)
	r.takes = append(r.takes, takes...)
	return r, off
}

// done ends a round trip: the queued runs go next, one after another,
// sent by a goroutine of their own.
func (g *group) done(send func(*takeRun)) {
	g.mu.Lock()
	queued := g.next != nil
	g.busy = queued
	g.mu.Unlock()
	if queued {
		go g.sendQueued(send)
	}
}

// sendQueued sends the queued runs until none is left.
func (g *group) sendQueued(send func(*takeRun)) {
	for {
		g.mu.Lock()
		r := g.next
		g.next = nil
		g.busy = r != nil
		if r != nil {
			r.sent = true
		}
		g.mu.Unlock()
		if r == nil {
			return
		}
		send(r)
		close(r.done)
	}
}

// leave withdraws the takes [off, off+n) of r, those of a request that
// no longer waits for it, unless r is sent already: they become takes of
// nothing, which read a bucket and change nothing.
func (g *group) leave(r *takeRun, off, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !r.sent {
		for i := off; i < off+n; i++ {
			r.takes[i].Cost = 0
		}
	}
}

// TakeMany implements limiter.BatchStore. The takes go in one round trip,
// with those of other requests when one is out already: on one server,
// one script run for all, each take still its own atomic step in turn; on
// a cluster, one pipeline, one run a key (a script's keys share a hash
// slot). A wait for another's round trip is bounded by Options.Waiter, or
// by ctx alone.
func (s *Store) TakeMany(ctx context.Context, takes []limiter.BatchTake) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis rate-limit store: take: %w", err)
	}
	r, off := s.group.join(takes)
	if r == nil {
		errs := s.send(ctx, takes)
		s.group.done(s.sendRun)
		return firstTakeError(errs)
	}
	if err := s.await(ctx, r.done); err != nil {
		// Withdrawn from a run not yet sent, the takes are not charged.
		// From a run out, they may still be: a request that gave up then
		// errs toward refusing, as after any timeout.
		s.group.leave(r, off, len(takes))
		return fmt.Errorf("redis rate-limit store: take: %w", err)
	}
	for i := range takes {
		takes[i].Decision = r.takes[off+i].Decision
	}
	if r.errs == nil {
		return nil
	}
	return firstTakeError(r.errs[off : off+len(takes)])
}

// firstTakeError is the first of errs, or nil.
func firstTakeError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("redis rate-limit store: take: %w", err)
		}
	}
	return nil
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

// sendRun sends a queued run on no request's context: a request that
// leaves must not fail the others. The client's own timeouts bound it.
func (s *Store) sendRun(r *takeRun) { r.errs = s.send(context.Background(), r.takes) }

// send makes the round trip of takes, setting their Decisions; the errors
// are nil when all succeeded, else one a take.
func (s *Store) send(ctx context.Context, takes []limiter.BatchTake) []error {
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(takes))
		}
		errs[i] = err
	}
	if !s.oneServer {
		cmds := s.pipelined(ctx, takeScript, len(takes), func(i int) ([]string, []any) {
			t := &takes[i]
			return []string{s.redisKey(t.Key)}, s.args(int64(t.Cost), int64(t.Limit), int64(t.Slack))
		})
		for i, cmd := range cmds {
			if err := decisions(cmd, takes[i:i+1]); err != nil {
				fail(i, err)
			}
		}
		return errs
	}
	keys := make([]string, len(takes))
	ns := make([]int64, 0, 3*len(takes))
	for i, t := range takes {
		keys[i] = s.redisKey(t.Key)
		ns = append(ns, int64(t.Cost), int64(t.Limit), int64(t.Slack))
	}
	if err := decisions(takeScript.Run(ctx, s.rdb, keys, s.args(ns...)...), takes); err != nil {
		for i := range takes {
			fail(i, err)
		}
	}
	return errs
}
