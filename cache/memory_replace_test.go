package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Entries replaced under their own keys by larger ones (a no-cache
// request stores its fresh answer over the old one) are bounded by
// max_size as new ones are.
func TestMemoryStoreBoundsReplacedEntries(t *testing.T) {
	const size = 64 << 10
	m, err := NewMemoryStore(size)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	entry := func(i, n int) *Entry {
		var k Key
		copy(k[:], fmt.Sprintf("key %d", i))
		now := time.Now()
		return &Entry{Key: k, Model: "m", Body: []byte(strings.Repeat("x", n)), Stored: now, Expires: now.Add(time.Hour)}
	}
	for i := range 20 {
		e := entry(i, 100)
		_ = m.Set(ctx, e.Key, e)
	}
	for i := range 20 {
		e := entry(i, 16<<10)
		_ = m.Set(ctx, e.Key, e)
	}
	st, _ := m.Stats(ctx)
	held := 0
	for i := range 20 {
		if e, _ := m.Get(ctx, entry(i, 0).Key); e != nil {
			held += len(e.Body) + entryOverhead
		}
	}
	if held == 0 {
		t.Fatal("no replaced entry is held")
	}
	if st.Bytes > size || held > size {
		t.Fatalf("max_size %d: counts %d bytes, holds %d", size, st.Bytes, held)
	}
}
