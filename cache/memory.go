package cache

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/fastcache"
)

// MemoryStore keeps entries in process memory, outside the Go heap:
// fastcache holds them in 64KiB chunks it maps from the system itself, in
// 512 buckets, each a ring that overwrites its oldest entries when full.
//
// Off the heap, a full cache costs the collector nothing. On the heap, a
// full 256MiB cache was hundreds of thousands of objects the collector
// marked on every cycle, and the process had to be given a soft memory
// limit to keep it from growing to twice what it held; together they took
// more than half of what the cache cost a miss.
//
// A ring keeps the most recently written entries. So that an entry in use
// outlives a flood of new ones, a hit rewrites an entry once an eighth of
// the store has been written after it, which keeps it in the newer part
// of its ring as long as it is asked for. An eighth, not a half: a bucket
// turns faster than the store as a whole when more keys fall in it, and
// in the smallest store a bucket holds a single 64KiB chunk.
type MemoryStore struct {
	c    *fastcache.Cache
	size int64
	// seed picks the bucket of each entry (see slot).
	seed maphash.Seed
	// partLen is the most bytes of a value written under one key.
	partLen int
	// written counts the bytes ever written. Each value carries the count
	// it was last written at, which tells how far its ring has turned
	// since, and the count its entry was stored at, which tells whether a
	// purge came after: a purge is a count, not a time, so that no clock
	// and no rewrite of an entry in use can move an entry past it.
	written atomic.Uint64
	// purged maps a model to the count its entries were purged at: those
	// stored before are gone (a ring cannot list its keys). It is replaced
	// whole on a purge, so a lookup reads it without a lock.
	purged atomic.Pointer[map[string]uint64]
	// emptied is the count at which Purge last dropped every entry:
	// fastcache empties its buckets one after the other, and a lookup
	// meanwhile must not find an entry the purge has not reached yet.
	emptied atomic.Uint64
	mu      sync.Mutex // serialises purges
	// closed is set by Close. fastcache's memory returns to it only on
	// Reset: a write after Close, from a request of a config being
	// unloaded, must give back what it took.
	closed atomic.Bool
	// stripes order a Set against the rewrite or drop of a lookup that
	// read the value before it (see stripe).
	stripes [numStripes]stripe
	// afterLoad, when a test sets it, runs in Get between reading a value
	// and rewriting or dropping it.
	afterLoad func()
}

// numStripes is how many stripes a store's slots fall in.
const numStripes = 256

// stripe orders the writes of the slots that fall in it. A lookup
// rewrites or drops the value it read only if no Set came in its stripe
// since the read: a Set of that key between the two would otherwise be
// undone, an answer stored by a no-cache request replaced by the older
// one, or one stored after a purge dropped. A Set that comes after the
// rewrite overwrites it, as it should. Sets of other keys in the stripe
// only put a rewrite off to a later hit.
type stripe struct {
	mu   sync.Mutex
	sets atomic.Uint64 // the Sets done in the stripe
}

// MemoryStep is the unit a memory store is sized in: fastcache gives each
// of its 512 buckets whole 64KiB chunks.
const MemoryStep = 32 << 20

// A value in the store is a head, then the entry's byte form
// (entry_form.go). The head holds the written count at its last write,
// the count at its entry's Set, and whether it is a TieredStore's local
// copy.
const (
	headLen   = 17
	localFlag = 1
)

// A value longer than the store's part length is written in parts of
// that length, each under its entry's key, the value's last-write count
// and the part's number, then a meta value of metaLen under the entry's
// key: the count and the value's length. A part is a sixteenth of a
// bucket (4KiB in the smallest store, whose buckets are a single 64KiB
// chunk; 32KiB from 256MiB on): one value written whole, or by SetBig in
// parts of nearly 64KiB, would take a bucket of a small store at once,
// entries in use with it, faster than any hit rewrites them.
//
// No read mixes two writes: a part's key names the write, and no two
// writes have one count. A whole value is never metaLen long (the head
// alone is more).
const (
	metaLen = 16
	// maxPartLen keeps a part and its key within a fastcache chunk.
	maxPartLen = 32 << 10
)

// NewMemoryStore returns a store holding at most maxSize bytes of
// entries, in whole steps of MemoryStep: at least one.
func NewMemoryStore(maxSize int64) (*MemoryStore, error) {
	if maxSize < MemoryStep {
		return nil, fmt.Errorf("must be at least 32MiB, got %d bytes", maxSize)
	}
	size := maxSize - maxSize%MemoryStep
	return &MemoryStore{c: fastcache.New(int(size)), size: size, seed: maphash.MakeSeed(),
		partLen: int(min(size/512/16, maxPartLen))}, nil
}

// Get implements Store. Each entry is a copy of its own; an expired one
// is a miss.
func (m *MemoryStore) Get(_ context.Context, k Key) (*Entry, error) {
	s := m.slot(k)
	st := m.stripe(s)
	sets := st.sets.Load()
	v := m.load(s)
	if m.afterLoad != nil {
		m.afterLoad()
	}
	if len(v) < headLen {
		return nil, nil
	}
	e, err := ReadEntry(v[headLen:])
	if err != nil || e == nil || e.Key != k {
		return nil, err
	}
	if m.isPurged(binary.LittleEndian.Uint64(v[8:]), e.Model) {
		// The parts of a long one are left to age out of their rings: no
		// value names them any more.
		st.mu.Lock()
		if st.sets.Load() == sets {
			m.c.Del(s[:])
		}
		st.mu.Unlock()
		return nil, nil
	}
	// Not rewritten: its place goes to the answer stored next.
	if !time.Now().Before(e.Expires) {
		return nil, nil
	}
	e.Local = v[16]&localFlag != 0
	if m.written.Load()-binary.LittleEndian.Uint64(v) > uint64(m.size/8) {
		binary.LittleEndian.PutUint64(v, m.written.Add(uint64(len(v))))
		st.mu.Lock()
		if st.sets.Load() == sets {
			m.put(s, v)
		}
		st.mu.Unlock()
	}
	return e, nil
}

// Set implements Store. The entry is found by the next Get: fastcache
// writes it before Set returns. An entry larger than MaxEntry, or one
// already expired, is not kept.
func (m *MemoryStore) Set(_ context.Context, k Key, e *Entry) error {
	n := EntryLen(e)
	if time.Until(e.Expires) <= 0 || int64(n) > m.MaxEntry() {
		return ErrNotKept
	}
	buf := setBufs.Get().(*[]byte)
	defer putSetBuf(buf)
	head := slices.Grow((*buf)[:0], headLen+n)[:headLen]
	clear(head)
	v := AppendEntry(head, e)
	*buf = v
	count := m.written.Add(uint64(len(v)))
	binary.LittleEndian.PutUint64(v, count)
	binary.LittleEndian.PutUint64(v[8:], count)
	if e.Local {
		v[16] = localFlag
	}
	s := m.slot(k)
	st := m.stripe(s)
	st.mu.Lock()
	kept := m.put(s, v)
	st.sets.Add(1)
	st.mu.Unlock()
	if !kept {
		return ErrNotKept
	}
	return nil
}

// setBufs holds the buffers Set writes an entry's byte form in. fastcache
// copies what it is given, so a buffer is free again once Set returns:
// a miss need not allocate the size of its answer a second time.
var setBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxSetBuf is the largest buffer setBufs keeps: one long answer must not
// hold its size in the pool.
const maxSetBuf = 64 << 10

func putSetBuf(buf *[]byte) {
	if cap(*buf) <= maxSetBuf {
		setBufs.Put(buf)
	}
}

// put writes v, its head filled in, in slot s, and reports whether the
// store keeps it: a closed store does not.
func (m *MemoryStore) put(s slot, v []byte) bool {
	if len(v) <= m.partLen {
		m.c.Set(s[:], v)
	} else {
		var meta [metaLen]byte
		n := binary.LittleEndian.Uint64(v)
		binary.LittleEndian.PutUint64(meta[:], n)
		binary.LittleEndian.PutUint64(meta[8:], uint64(len(v)))
		for i := uint32(0); len(v) > 0; i++ {
			p := v[:min(len(v), m.partLen)]
			v = v[len(p):]
			pk := partKey(s, n, i)
			m.c.Set(pk[:], p)
		}
		m.c.Set(s[:], meta[:])
	}
	if m.closed.Load() {
		m.c.Reset()
		return false
	}
	return true
}

// load returns the value in slot s, nil when there is none.
func (m *MemoryStore) load(s slot) []byte {
	v, ok := m.c.HasGet(nil, s[:])
	if !ok || len(v) != metaLen {
		return v
	}
	n, size := binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])
	b := make([]byte, 0, size)
	for i := uint32(0); uint64(len(b)) < size; i++ {
		pk := partKey(s, n, i)
		had := len(b)
		if b, ok = m.c.HasGet(b, pk[:]); !ok || len(b) == had {
			return nil // a part went out of its ring
		}
	}
	if uint64(len(b)) != size {
		return nil
	}
	return b
}

// isPurged reports whether a purge dropped the entry of model stored at
// the written count n.
func (m *MemoryStore) isPurged(n uint64, model string) bool {
	if n <= m.emptied.Load() {
		return true
	}
	if purged := m.purged.Load(); purged != nil {
		if at, ok := (*purged)[model]; ok && n <= at {
			return true
		}
	}
	return false
}

// slot is the fastcache key of an entry: its key after a hash of it
// seeded by the store.
type slot [8 + len(Key{})]byte

// slot returns the slot of the entry under k. fastcache picks a key's bucket by an unseeded
// xxhash of it, which anyone could compute for a key they know (under
// scope shared, that of any prompt), and aim a few dozen answers at the
// bucket of an answer others use: far fewer than make a hit rewrite it.
func (m *MemoryStore) slot(k Key) (s slot) {
	binary.LittleEndian.PutUint64(s[:], maphash.Bytes(m.seed, k[:]))
	copy(s[8:], k[:])
	return s
}

// stripe returns the stripe of slot s.
func (m *MemoryStore) stripe(s slot) *stripe {
	return &m.stripes[binary.LittleEndian.Uint64(s[:])%numStripes]
}

// partKey is the key of part i of the value in slot s written at count n.
func partKey(s slot, n uint64, i uint32) (b [len(slot{}) + 12]byte) {
	copy(b[:], s[:])
	binary.LittleEndian.PutUint64(b[len(s):], n)
	binary.LittleEndian.PutUint32(b[len(s)+8:], i)
	return b
}

// MaxSize is the bytes the store holds at most.
func (m *MemoryStore) MaxSize() int64 { return m.size }

// MaxEntry implements Bounded: an entry takes at most a 32nd of the store,
// 8MiB of the default 256MiB (the default max_response). A larger one,
// written in parts across the buckets, would wipe out too many others.
func (m *MemoryStore) MaxEntry() int64 { return m.size / 32 }

// Stats returns the entries the store holds (an entry written in parts
// counts once for each, and once more) and the memory it has taken for
// them, up to MaxSize.
func (m *MemoryStore) Stats(context.Context) (Stats, error) {
	var s fastcache.Stats
	m.c.UpdateStats(&s)
	return Stats{Entries: int64(s.EntriesCount), Bytes: int64(s.BytesSize)}, nil
}

// Purge drops every entry. It covers the model purges before it, which
// are forgotten.
func (m *MemoryStore) Purge(context.Context) error {
	// Under the lock: two purges at once could otherwise store their
	// counts in the other order, and move the count back.
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purgeAll()
	return nil
}

// purgeAll drops every entry; m.mu is held.
func (m *MemoryStore) purgeAll() {
	m.emptied.Store(m.written.Load())
	m.purged.Store(nil)
	m.c.Reset()
}

// maxPurgedModels bounds the models whose purges the store remembers
// since it was last emptied: each purge copies them all, and each lookup
// of a model reads them.
const maxPurgedModels = 1024

// PurgeModel drops the entries of model: none is served once it returns.
// Their memory is taken by the entries stored after them. Past
// maxPurgedModels models purged one by one, a purge of another model
// drops every entry, as a cache always may.
func (m *MemoryStore) PurgeModel(_ context.Context, model string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[string]uint64{}
	if p := m.purged.Load(); p != nil {
		if _, again := (*p)[model]; !again && len(*p) >= maxPurgedModels {
			m.purgeAll()
			return nil
		}
		maps.Copy(next, *p)
	}
	next[model] = m.written.Load()
	m.purged.Store(&next)
	return nil
}

// Close drops the entries and gives their memory back to fastcache, for
// the next store to take. A Set after Close stores nothing and returns
// ErrNotKept.
func (m *MemoryStore) Close() {
	m.closed.Store(true)
	m.c.Reset()
}

// Interface guards
var (
	_ Admin   = (*MemoryStore)(nil)
	_ Bounded = (*MemoryStore)(nil)
)
