package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Shared is a store that several instances share, such as one in Redis.
type Shared interface {
	Store
	Admin
}

// Invalidation is a purge of a shared store, which every instance's
// local tier must follow.
type Invalidation struct {
	// All is set when every entry was purged; else Model names the model
	// whose entries were.
	All   bool
	Model string
}

// TieredStore keeps copies of a shared store's entries in the instance's
// memory, in front of it. A copy lives no longer than its entry (its
// Expires is the shared entry's). A purge goes to the shared store, then
// to every instance's local tier through publish; the instance hears the
// others' purges through Invalidate, as long as it reports Listening.
// While it cannot hear them, it neither serves nor keeps copies: every
// lookup goes to the shared store, as with no local tier.
type TieredStore struct {
	local   *MemoryStore
	shared  Shared
	publish func(context.Context, Invalidation) error

	listening atomic.Bool
	// gen counts what made copies untrustworthy (purges, a deaf spell): a
	// copy is kept only if no count passed while its entry was fetched.
	gen atomic.Uint64
	// mu orders the keeping of a copy (read) against purges (write), so
	// that no copy checked before a purge lands after it.
	mu sync.RWMutex
}

// NewTieredStore returns a store that keeps copies of shared's entries in
// local, and tells the other instances of a purge through publish. It is
// deaf (serves no copies) until Listening(true).
func NewTieredStore(local *MemoryStore, shared Shared, publish func(context.Context, Invalidation) error) *TieredStore {
	return &TieredStore{local: local, shared: shared, publish: publish}
}

// Get implements Store: the local copy when there is a live one, else the
// shared store's entry, which is copied locally.
func (t *TieredStore) Get(ctx context.Context, k Key) (*Entry, error) {
	if t.listening.Load() {
		if e, _ := t.local.Get(ctx, k); e != nil && time.Now().Before(e.Expires) {
			return e, nil
		}
	}
	gen := t.gen.Load()
	e, err := t.shared.Get(ctx, k)
	if e != nil {
		t.keep(ctx, k, e, gen)
	}
	return e, err
}

// Set implements Store: the entry goes to the shared store, and a copy
// stays in memory once it is there.
func (t *TieredStore) Set(ctx context.Context, k Key, e *Entry) error {
	gen := t.gen.Load()
	if err := t.shared.Set(ctx, k, e); err != nil {
		return err
	}
	t.keep(ctx, k, e, gen)
	return nil
}

// keep copies e into the local tier, unless a purge or a deaf spell came
// since gen was read: e may be what that purge dropped.
func (t *TieredStore) keep(ctx context.Context, k Key, e *Entry, gen uint64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.listening.Load() || t.gen.Load() != gen {
		return
	}
	c := *e
	c.Local = true
	_ = t.local.Set(ctx, k, &c) // the memory store does not fail
}

// Invalidate drops the local copies a purge (here or on another instance)
// dropped from the shared store.
func (t *TieredStore) Invalidate(inv Invalidation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen.Add(1)
	if inv.All {
		_ = t.local.Purge(context.Background())
	} else {
		_ = t.local.PurgeModel(context.Background(), inv.Model)
	}
}

// Listening reports whether the instance hears the purges of the others.
// Either way the local tier starts empty: purges may have been missed.
func (t *TieredStore) Listening(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen.Add(1)
	t.listening.Store(on)
	_ = t.local.Purge(context.Background())
}

// Stats implements Admin: what the shared store holds.
func (t *TieredStore) Stats(ctx context.Context) (Stats, error) { return t.shared.Stats(ctx) }

// LocalStats is what the local tier holds.
func (t *TieredStore) LocalStats() Stats {
	st, _ := t.local.Stats(context.Background())
	return st
}

// Purge implements Admin: it empties the shared store and every
// instance's local tier.
func (t *TieredStore) Purge(ctx context.Context) error {
	return t.purge(ctx, Invalidation{All: true}, t.shared.Purge(ctx))
}

// PurgeModel implements Admin: it drops the entries of model from the
// shared store and from every instance's local tier.
func (t *TieredStore) PurgeModel(ctx context.Context, model string) error {
	return t.purge(ctx, Invalidation{Model: model}, t.shared.PurgeModel(ctx, model))
}

// purge tells every instance, this one first, of a purge of the shared
// store that ended with err. Even a failed purge may have dropped
// entries, so the local tiers follow it either way.
func (t *TieredStore) purge(ctx context.Context, inv Invalidation, err error) error {
	t.Invalidate(inv)
	return errors.Join(err, t.publish(ctx, inv))
}

// Interface guard
var _ Shared = (*TieredStore)(nil)
