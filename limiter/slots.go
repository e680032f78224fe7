package limiter

import (
	"context"
	"time"
)

// SlotStore keeps the concurrency slots of keys for several servers at
// once, so that a cap holds across all of them: each slot is a lease that
// lapses unless the server holding it renews it, and the slots of a server
// that dies free themselves. The store renews the leases it handed out
// until they are released.
type SlotStore interface {
	// Acquire takes one slot of key, of at most limit: lease names it, ""
	// when limit are held; held is how many the key holds then.
	Acquire(ctx context.Context, key Key, limit int) (lease string, held int, err error)
	// Release frees the slot lease holds. A slot not released lapses.
	Release(ctx context.Context, key Key, lease string) error
}

// slotTweak sets a key's shared slots apart from its buckets.
var slotTweak = hashRaw("slots")

// sharedPoll bounds the pause between two tries of a request waiting for
// a shared slot: a slot freed on another server is not announced, so the
// waiter asks again, a little later each time.
const (
	firstPoll = 20 * time.Millisecond
	maxPoll   = 250 * time.Millisecond
)

// acquireShared takes a slot of key from the zone's SlotStore, waiting up
// to the zone's MaxWait, trying again now and then. It returns the lease
// ("" when none was taken) and how many slots the key holds.
func (z *zone) acquireShared(ctx context.Context, key Key, beforeWait func()) (lease string, held int, err error) {
	key = key.salted(slotTweak)
	deadline := time.Now().Add(z.MaxWait)
	pause := firstPoll
	for {
		lease, held, err = z.Slots.Acquire(ctx, key, z.Concurrency)
		if err != nil || lease != "" || z.MaxWait <= 0 {
			return lease, held, err
		}
		wait := min(pause, time.Until(deadline))
		if wait <= 0 {
			return "", held, nil
		}
		if beforeWait != nil {
			beforeWait()
			beforeWait = nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", held, nil
		}
		pause = min(2*pause, maxPoll)
	}
}

// releaseShared frees a shared slot. Its failure only delays the slot:
// the lease lapses.
func (z *zone) releaseShared(key Key, lease string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = z.Slots.Release(ctx, key.salted(slotTweak), lease)
}
