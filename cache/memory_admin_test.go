package cache

import (
	"context"
	"testing"
	"time"
)

func TestMemoryStoreAdmin(t *testing.T) {
	ctx := context.Background()
	m := newMemory(t)
	put := func(name, model string) Key { return setAnswer(t, m, name, model, string(make([]byte, 100))) }
	has := func(k Key) bool { e, _ := m.Get(ctx, k); return e != nil }
	a, b, c := put("a", "gpt-4o"), put("b", "gpt-4o-mini"), put("c", "gpt-4o")
	if st, _ := m.Stats(ctx); st.Entries != 3 || st.Bytes <= 0 || st.Bytes > m.MaxSize() {
		t.Errorf("stats %+v", st)
	}
	if err := m.PurgeModel(ctx, "gpt-4o"); err != nil {
		t.Fatal(err)
	}
	if has(a) || has(c) || !has(b) {
		t.Fatalf("after purging gpt-4o: a %v, b %v, c %v", has(a), has(b), has(c))
	}
	// An entry of the purged model stored afterwards is served.
	time.Sleep(time.Millisecond)
	if d := put("d", "gpt-4o"); !has(d) {
		t.Fatal("entry stored after the purge is missing")
	}
	if err := m.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if has(b) {
		t.Fatal("entry left after Purge")
	}
	if st, _ := m.Stats(ctx); st.Entries != 0 {
		t.Errorf("stats after Purge: %+v", st)
	}
	// An entry stored again under its key, then purged: neither copy is
	// served.
	e := put("e", "o3")
	put("e", "o3")
	if err := m.PurgeModel(ctx, "o3"); err != nil {
		t.Fatal(err)
	}
	if has(e) {
		t.Error("entry stored twice, then purged, is served")
	}
}

// newMemory returns a memory store of the smallest size, closed when the
// test ends.
func newMemory(t testing.TB) *MemoryStore {
	t.Helper()
	m, err := NewMemoryStore(MemoryStep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}
