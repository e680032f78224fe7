package cache

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// entryOverhead is the bytes an entry holds beyond its byte form, so
// that max_size bounds the memory entries really take, not just their
// payload: ristretto's item and its slot in ristretto's map (~200), its
// expiry bucket and policy (~85), and its place in the model index (~30),
// as measured (TestMemoryStoreCountsWhatItHolds), rounded up for the
// maps' growth.
const entryOverhead = 400

// MemoryStore keeps entries in process memory, bounded by their size in
// bytes; when full, ristretto's TinyLFU policy decides what stays.
type MemoryStore struct {
	c *ristretto.Cache[uint64, held]
	// purged maps a model to the time its entries were purged: entries of
	// it stored before are gone (ristretto cannot list its keys). It is
	// replaced whole on a purge, so a lookup reads it without a lock.
	purged atomic.Pointer[map[string]time.Time]
	mu     sync.Mutex // serialises purges

	// byModel lists the entries held of each model, by their ristretto
	// key and their number, so that a purge of a model removes them at
	// once and Stats drop with it. An entry leaves it when ristretto lets
	// go of it (evicted, expired, replaced, deleted).
	byModel struct {
		sync.Mutex
		m map[string]map[uint64]uint64
	}
	// numbered counts the entries ever stored.
	numbered atomic.Uint64
}

// held is an entry as a MemoryStore holds it: its byte form (entry_form.go)
// in one allocation, with no pointers inside. A full cache holds hundreds
// of thousands of entries, and the collector visits every object of them
// on each cycle: as an Entry, with its header map, strings and body, an
// entry was about ten objects, and visiting them took a third of the CPU
// of a miss-only load once the cache was full.
type held struct {
	form []byte
	// n tells this entry from one that replaced it under the same key.
	n     uint64
	local bool
}

// NewMemoryStore returns a store holding at most maxSize bytes of entries.
func NewMemoryStore(maxSize int64) (*MemoryStore, error) {
	if maxSize <= 0 {
		return nil, fmt.Errorf("max_size: must be positive, got %d", maxSize)
	}
	m := &MemoryStore{}
	c, err := ristretto.NewCache(&ristretto.Config[uint64, held]{
		// About ten counters per entry of a typical 2 KiB answer.
		NumCounters:        max(maxSize/200, 1000),
		MaxCost:            maxSize,
		BufferItems:        64,
		IgnoreInternalCost: true,
		// Counts of entries and bytes held, for Stats.
		Metrics: true,
		OnExit:  func(h held) { m.forget(h) },
	})
	if err != nil {
		return nil, err
	}
	m.c = c
	m.byModel.m = map[string]map[uint64]uint64{}
	return m, nil
}

// remember lists h among the entries of model, and reports whether it
// takes the place of one listed under its key.
func (m *MemoryStore) remember(k uint64, model string, h held) (replaces bool) {
	m.byModel.Lock()
	defer m.byModel.Unlock()
	keys := m.byModel.m[model]
	if keys == nil {
		keys = map[uint64]uint64{}
		m.byModel.m[model] = keys
	}
	_, replaces = keys[k]
	keys[k] = h.n
	return replaces
}

// forget takes h, which ristretto let go of, off the list of its model,
// unless an entry that replaced it holds its place.
func (m *MemoryStore) forget(h held) {
	if h.form == nil {
		return
	}
	model, key := formHead(h.form)
	k := shortKey(key)
	m.byModel.Lock()
	defer m.byModel.Unlock()
	if keys := m.byModel.m[model]; keys[k] == h.n {
		delete(keys, k)
		if len(keys) == 0 {
			delete(m.byModel.m, model)
		}
	}
}

// Get implements Store. The entry's strings and body share the memory
// the store holds it in.
func (m *MemoryStore) Get(_ context.Context, k Key) (*Entry, error) {
	h, ok := m.c.Get(shortKey(k))
	if !ok {
		return nil, nil
	}
	e, err := ReadEntry(h.form)
	if err != nil || e == nil || e.Key != k {
		return nil, err
	}
	if purged := m.purged.Load(); purged != nil {
		if t, ok := (*purged)[e.Model]; ok && !e.Stored.After(t) {
			m.c.Del(shortKey(k))
			return nil, nil
		}
	}
	e.Local = h.local
	return e, nil
}

// Set implements Store. It waits for ristretto's asynchronous write to be
// applied, so the identical request that follows finds the entry, and
// returns ErrNotKept when ristretto did not take it: its admission policy
// may prefer the entries it holds, or an entry may cost more than the
// whole store.
func (m *MemoryStore) Set(_ context.Context, k Key, e *Entry) error {
	ttl := time.Until(e.Expires)
	if ttl <= 0 {
		return ErrNotKept
	}
	h := held{form: AppendEntry(make([]byte, 0, EntryLen(e)), e), n: m.numbered.Add(1), local: e.Local}
	cost := int64(cap(h.form)) + entryOverhead
	// Listed before ristretto holds it: were it listed after, an
	// eviction in between would leave it listed for good.
	if m.remember(shortKey(k), e.Model, h) {
		// An entry that replaces one under its key comes in as a new
		// one, so that room is made for it: ristretto swaps the value
		// of a key it holds in place, adding its cost without evicting
		// anything, and answers stored again under their keys
		// (no-cache, max-age) would hold many times max_size.
		m.c.Del(shortKey(k))
	}
	if !m.c.SetWithTTL(shortKey(k), h, cost, ttl) {
		m.forget(h) // dropped: ristretto never held it
		return ErrNotKept
	}
	m.c.Wait()
	// GetTTL reads without counting as a use of the entry.
	if _, ok := m.c.GetTTL(shortKey(k)); !ok {
		return ErrNotKept
	}
	return nil
}

// MaxSize is the bytes the store holds at most, as it counts them.
func (m *MemoryStore) MaxSize() int64 { return m.c.MaxCost() }

// MaxEntry implements Bounded: an entry costs its bytes and a fixed
// overhead, and ristretto drops one that costs more than the whole store.
func (m *MemoryStore) MaxEntry() int64 { return m.c.MaxCost() - entryOverhead }

// Stats returns the entries and bytes (as counted against max_size) the
// store holds. Entries past their TTL count until ristretto's cleanup
// drops them.
func (m *MemoryStore) Stats(context.Context) (Stats, error) {
	mt := m.c.Metrics
	return Stats{
		Entries: int64(mt.KeysAdded() - mt.KeysEvicted()),
		Bytes:   int64(mt.CostAdded() - mt.CostEvicted()),
	}, nil
}

// Purge drops every entry.
func (m *MemoryStore) Purge(context.Context) error {
	m.c.Clear()
	return nil
}

// PurgeModel drops the entries of model: they are no longer served, and
// no longer held or counted by Stats once it returns.
func (m *MemoryStore) PurgeModel(_ context.Context, model string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Entries being stored as the purge runs are not listed yet: the time
	// of the purge keeps them from being served.
	next := map[string]time.Time{}
	if p := m.purged.Load(); p != nil {
		maps.Copy(next, *p)
	}
	next[model] = time.Now()
	m.purged.Store(&next)
	m.byModel.Lock()
	keys := slices.Collect(maps.Keys(m.byModel.m[model]))
	m.byModel.Unlock()
	// Not under byModel's lock: ristretto calls forget as it deletes.
	for _, k := range keys {
		m.c.Del(k)
	}
	m.c.Wait()
	return nil
}

// Close stops the store's background goroutines and drops its entries.
func (m *MemoryStore) Close() { m.c.Close() }

// shortKey is the ristretto key: 64 bits of the SHA-256 key; the full key
// in the entry settles the rare collision.
func shortKey(k Key) uint64 { return binary.LittleEndian.Uint64(k[:8]) }

// Interface guards
var (
	_ Admin   = (*MemoryStore)(nil)
	_ Bounded = (*MemoryStore)(nil)
)
