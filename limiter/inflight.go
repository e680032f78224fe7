package limiter

import (
	"context"
	"slices"
	"sync"
	"time"
)

// InFlight counts the requests of each key in flight, for zones with a
// concurrency cap. A request over the cap may wait in line for a slot; slots
// are handed to waiters in arrival order. Keys with nothing in flight take no
// memory.
type InFlight struct {
	shards [inflightShards]inflightShard
}

const inflightShards = 64

type inflightShard struct {
	mu sync.Mutex
	// lines holds only keys with something held or waiting; by value, so
	// a request takes no allocation.
	lines map[Key]slotLine
}

// slotLine is the state of one key: requests holding a slot and requests
// waiting for one.
type slotLine struct {
	held    int
	waiters []*slotWaiter
}

// slotWaiter is a request waiting for a slot; granted is closed when the
// slot is handed over.
type slotWaiter struct {
	limit   int
	granted chan struct{}
}

// NewInFlight returns an empty table.
func NewInFlight() *InFlight {
	f := &InFlight{}
	for i := range f.shards {
		f.shards[i].lines = make(map[Key]slotLine)
	}
	return f
}

func (f *InFlight) shard(k Key) *inflightShard { return &f.shards[k[0]%inflightShards] }

// Held returns the number of slots key holds.
func (f *InFlight) Held(key Key) int {
	sh := f.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.lines[key].held
}

// acquire takes one of limit slots for key, waiting up to maxWait for one
// to free. It returns whether a slot was taken and how many the key then
// holds. It stops waiting, and takes nothing, when ctx is done.
// beforeWait, when set, runs once the request is in line, before it waits.
func (f *InFlight) acquire(ctx context.Context, key Key, limit int, maxWait time.Duration, beforeWait func()) (bool, int) {
	sh := f.shard(key)
	sh.mu.Lock()
	l := sh.lines[key]
	if l.held < limit && len(l.waiters) == 0 {
		l.held++
		sh.lines[key] = l
		sh.mu.Unlock()
		return true, l.held
	}
	if maxWait <= 0 || ctx.Err() != nil {
		sh.mu.Unlock()
		return false, limit
	}
	w := &slotWaiter{limit: limit, granted: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	sh.lines[key] = l
	sh.mu.Unlock()
	if beforeWait != nil {
		beforeWait()
	}

	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	select {
	case <-w.granted:
		return true, f.Held(key)
	case <-ctx.Done():
	case <-timer.C:
	}
	sh.mu.Lock()
	left := sh.leave(key, w)
	sh.mu.Unlock()
	switch {
	case left:
		return false, limit
	case ctx.Err() != nil:
		// The slot was handed over as the client left: pass it on.
		f.release(key)
		return false, limit
	}
	// The slot was handed over as MaxWait ran out: take it.
	return true, f.Held(key)
}

// release frees one slot of key and hands free slots to waiters in order.
func (f *InFlight) release(key Key) {
	sh := f.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	l, ok := sh.lines[key]
	if !ok {
		return
	}
	l.held--
	for len(l.waiters) > 0 && l.held < l.waiters[0].limit {
		close(l.waiters[0].granted)
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
		l.held++
	}
	sh.put(key, l)
}

// leave takes w out of key's line; false means it was granted already.
func (sh *inflightShard) leave(key Key, w *slotWaiter) bool {
	l := sh.lines[key]
	i := slices.Index(l.waiters, w)
	if i < 0 {
		return false
	}
	l.waiters = slices.Delete(l.waiters, i, i+1)
	sh.put(key, l)
	return true
}

// put stores key's line, forgetting one with nothing held and nobody
// waiting.
func (sh *inflightShard) put(key Key, l slotLine) {
	if l.held <= 0 && len(l.waiters) == 0 {
		delete(sh.lines, key)
		return
	}
	sh.lines[key] = l
}
