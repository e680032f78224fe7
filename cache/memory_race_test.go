package cache

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

// A hit that rewrites its entry (to keep it in use, see MemoryStore) read
// the entry before it writes it back. A Set of the same key in between,
// such as the answer of a Cache-Control: no-cache request, must not be
// undone by the rewrite of the older answer.
func TestMemoryStoreRewriteKeepsANewerSet(t *testing.T) {
	m := newMemory(t)
	ctx := context.Background()
	k := setAnswer(t, m, "refreshed", "m", "old")
	// Write an eighth of the store and more since, so that the next hit
	// rewrites the old answer.
	for i := range 5 {
		setAnswer(t, m, fmt.Sprint("filler ", i), "m", string(make([]byte, m.MaxEntry()-1024)))
	}
	m.afterLoad = func() {
		m.afterLoad = nil
		setAnswer(t, m, "refreshed", "m", "new")
	}
	if e, _ := m.Get(ctx, k); e == nil || string(e.Body) != "old" {
		t.Fatalf("the hit found %+v, want the old answer it read", e)
	}
	if e, _ := m.Get(ctx, k); e == nil || string(e.Body) != "new" {
		t.Fatalf("after a Set during a hit's rewrite, the store holds %+v, want the new answer", e)
	}
}

// A lookup that finds a purged entry drops it. An answer stored under the
// same key after the purge, while the lookup ran, is not dropped with it.
func TestMemoryStorePurgedDropKeepsANewerSet(t *testing.T) {
	m := newMemory(t)
	ctx := context.Background()
	k := setAnswer(t, m, "purged", "gpt-4o", "before the purge")
	if err := m.PurgeModel(ctx, "gpt-4o"); err != nil {
		t.Fatal(err)
	}
	m.afterLoad = func() {
		m.afterLoad = nil
		setAnswer(t, m, "purged", "gpt-4o", "after the purge")
	}
	if e, _ := m.Get(ctx, k); e != nil {
		t.Fatalf("the lookup served %q, purged", e.Body)
	}
	if e, _ := m.Get(ctx, k); e == nil || string(e.Body) != "after the purge" {
		t.Fatalf("after a Set during the drop of a purged entry, the store holds %+v, want the answer stored after the purge", e)
	}
}

// setAnswer stores body under the key of name, for an hour, and returns
// the key.
func setAnswer(t *testing.T, m *MemoryStore, name, model, body string) Key {
	t.Helper()
	k := Key(sha256.Sum256([]byte(name)))
	now := time.Now()
	if err := m.Set(context.Background(), k, &Entry{Key: k, Body: []byte(body), Model: model, Stored: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return k
}
