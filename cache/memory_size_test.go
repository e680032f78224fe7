package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// TestMemoryStoreCountsWhatItHolds checks that max_size bounds real memory:
// the heap that entries take, ristretto's bookkeeping included, is no more
// than the bytes the store counts for them, and not far less (a count far
// above the truth would hold fewer answers than the operator pays for).
func TestMemoryStoreCountsWhatItHolds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header bool
	}{{"body only", false}, {"with a described header", true}} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMemoryStore(1 << 30)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ctx := context.Background()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			now := time.Now()
			const n = 40000
			for i := range n {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], uint64(i))
				k := Key(sha256.Sum256(b[:]))
				// As an upstream's answer arrives: strings of their own.
				ct := string([]byte("application/json"))
				var h http.Header
				if tc.header {
					h = pick(http.Header{"Content-Type": {ct}, "Openai-Version": {string([]byte("2020-10-01"))}}, Described)
				}
				e := &Entry{Key: k, ContentType: ct, Header: h, Body: make([]byte, 1400), Model: string([]byte("gpt-4o-mini")), Stored: now, Expires: now.Add(time.Hour)}
				if err := m.Set(ctx, k, e); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			st, err := m.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Entries != n {
				t.Fatalf("the store holds %d entries of %d", st.Entries, n)
			}
			held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			ratio := float64(held) / float64(st.Bytes)
			t.Logf("%d entries: %d B of heap each, %d B counted each (%.3f)", n, held/n, st.Bytes/n, ratio)
			if ratio > 1 || ratio < 0.85 {
				t.Errorf("entries hold %.3f times the bytes counted for them, want 0.85 to 1", ratio)
			}
		})
	}
}
