package cache

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"
)

func TestMemoryStoreAdmin(t *testing.T) {
	ctx := context.Background()
	m, err := NewMemoryStore(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	put := func(name, model string) Key {
		k := Key(sha256.Sum256([]byte(name)))
		now := time.Now()
		if err := m.Set(ctx, k, &Entry{Key: k, Body: make([]byte, 100), Model: model, Stored: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	has := func(k Key) bool { e, _ := m.Get(ctx, k); return e != nil }
	a, b, c := put("a", "gpt-4o"), put("b", "gpt-4o-mini"), put("c", "gpt-4o")
	st, _ := m.Stats(ctx)
	size := func(model string) int64 {
		return int64(EntryLen(&Entry{Model: model, Body: make([]byte, 100)}) + entryOverhead)
	}
	if st.Entries != 3 || st.Bytes != 2*size("gpt-4o")+size("gpt-4o-mini") {
		t.Errorf("stats %+v", st)
	}
	if err := m.PurgeModel(ctx, "gpt-4o"); err != nil {
		t.Fatal(err)
	}
	// Stats drop at once, before any lookup of the purged entries.
	if st, _ := m.Stats(ctx); st.Entries != 1 || st.Bytes != size("gpt-4o-mini") {
		t.Errorf("stats after purging gpt-4o: %+v", st)
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
	if st, _ := m.Stats(ctx); st.Entries != 0 || st.Bytes != 0 {
		t.Errorf("stats after Purge: %+v", st)
	}
	// An entry replaced by a newer one of the same key stays listed: a
	// purge of its model still removes it.
	e := put("e", "o3")
	put("e", "o3")
	if err := m.PurgeModel(ctx, "o3"); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Stats(ctx); has(e) || st.Entries != 0 {
		t.Errorf("after replacing and purging: held %v, stats %+v", has(e), st)
	}
}
