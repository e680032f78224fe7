package cache_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
)

// A store written three times over holds no more than max_size, and the
// entries it holds are not on the Go heap: the collector's work and the
// heap's growth do not depend on how full the cache is.
func TestMemoryStoreHoldsItsBoundOffTheHeap(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const size = 1400
	n := 3 * int(m.MaxSize()) / size
	for i := range n {
		e := storetest.Entry(fmt.Sprint("entry ", i), "gpt-4o-mini", make([]byte, size), time.Hour)
		if err := m.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st, _ := m.Stats(ctx)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d entries written, %d held in %d bytes; heap grew by %d bytes", n, st.Entries, st.Bytes, heap)
	if st.Bytes > m.MaxSize() {
		t.Errorf("holds %d bytes, max_size %d", st.Bytes, m.MaxSize())
	}
	if st.Entries < int64(m.MaxSize())/size/2 {
		t.Errorf("holds %d entries of %d bytes in %d", st.Entries, size, m.MaxSize())
	}
	// The index of what is held: a map entry of 16 bytes each, with room.
	if heap > st.Entries*64 {
		t.Errorf("the heap grew by %d bytes for %d entries held", heap, st.Entries)
	}
	// The newest entries are held.
	for i := n - 100; i < n; i++ {
		e := storetest.Entry(fmt.Sprint("entry ", i), "gpt-4o-mini", nil, time.Hour)
		if got, _ := m.Get(ctx, e.Key); got == nil {
			t.Fatalf("entry %d of %d, among the last written, is not held", i, n)
		}
	}
}

// A caller who floods the cache with new prompts, several times its size,
// does not push out the answers others keep asking for; answers nobody
// asks for again make room.
func TestMemoryStoreKeepsEntriesInUseThroughAFlood(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	entry := func(name string, size int) *cache.Entry {
		return storetest.Entry(name, "m", make([]byte, size), time.Hour)
	}
	var hot, cold []*cache.Entry
	for i := range 200 {
		h, c := entry(fmt.Sprint("hot ", i), 2000), entry(fmt.Sprint("cold ", i), 2000)
		hot, cold = append(hot, h), append(cold, c)
		for _, e := range []*cache.Entry{h, c} {
			if err := m.Set(ctx, e.Key, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	const size = 4000
	n := 4 * int(m.MaxSize()) / size
	for i := range n {
		e := entry(fmt.Sprint("flood ", i), size)
		if err := m.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
		// Each hot answer is asked for once per tenth of the store written.
		if i%(n/40) == 0 {
			for _, h := range hot {
				m.Get(ctx, h.Key)
			}
		}
	}
	held := func(es []*cache.Entry) (n int) {
		for _, e := range es {
			if got, _ := m.Get(ctx, e.Key); got != nil {
				n++
			}
		}
		return n
	}
	if h, c := held(hot), held(cold); h != len(hot) || c != 0 {
		t.Fatalf("after a flood of %d entries: %d of %d answers in use held, %d of %d unused", n, h, len(hot), c, len(cold))
	}
}

// A store closed while requests still write to it (a reload unloads the
// config whose requests are still finishing) keeps nothing they write:
// the memory it maps returns only when it is emptied.
func TestMemoryStoreClosedKeepsNothing(t *testing.T) {
	m, err := cache.NewMemoryStore(cache.MemoryStep)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m.Close()
	for i := range 1000 {
		e := storetest.Entry(fmt.Sprint("late ", i), "m", make([]byte, 2000), time.Hour)
		m.Set(ctx, e.Key, e)
		if got, _ := m.Get(ctx, e.Key); got != nil {
			t.Fatalf("entry %d, stored after Close, is served", i)
		}
	}
	if st, _ := m.Stats(ctx); st.Bytes != 0 || st.Entries != 0 {
		t.Fatalf("a closed store holds %+v", st)
	}
}

// A Set on a closed store says the entry was not kept (so the answer is
// not reported as stored), as the Store contract asks of an entry a Get
// does not find.
func TestMemoryStoreClosedSaysNotKept(t *testing.T) {
	m, err := cache.NewMemoryStore(cache.MemoryStep)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	for _, size := range []int{10, 200 << 10} {
		e := storetest.Entry(fmt.Sprint("late ", size), "m", make([]byte, size), time.Hour)
		if err := m.Set(context.Background(), e.Key, e); !errors.Is(err, cache.ErrNotKept) {
			t.Fatalf("Set of %d bytes after Close: %v, want ErrNotKept", size, err)
		}
	}
}

// A flood of large answers (a caller asking for long completions), from
// just under 64KiB up to the largest an entry may be, does not push out
// the answers others keep asking for either: a large value is written in
// parts no larger than a small answer, and does not take a whole bucket
// of the smallest store at once.
func TestMemoryStoreKeepsEntriesInUseThroughAFloodOfLargeAnswers(t *testing.T) {
	for _, size := range []int{60 << 10, 1<<20 - 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			m := newMemoryStore(t)
			ctx := context.Background()
			var hot []*cache.Entry
			for i := range 200 {
				h := storetest.Entry(fmt.Sprint("hot ", i), "m", make([]byte, 2000), time.Hour)
				if err := m.Set(ctx, h.Key, h); err != nil {
					t.Fatal(err)
				}
				hot = append(hot, h)
			}
			n := 4 * int(m.MaxSize()) / size
			for i := range n {
				e := storetest.Entry(fmt.Sprint("flood ", i), "m", make([]byte, size), time.Hour)
				if err := m.Set(ctx, e.Key, e); err != nil {
					t.Fatal(err)
				}
				// Each hot answer is asked for once per fortieth of the
				// flood, a tenth of the store written.
				if i%max(n/40, 1) == 0 {
					for _, h := range hot {
						m.Get(ctx, h.Key)
					}
				}
			}
			held := 0
			for _, h := range hot {
				if got, _ := m.Get(ctx, h.Key); got != nil {
					held++
				}
			}
			if held != len(hot) {
				t.Fatalf("after a flood of %d answers of %d bytes: %d of %d answers in use held", n, size, held, len(hot))
			}
		})
	}
}
