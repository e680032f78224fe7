package cache

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	xxhash "github.com/cespare/xxhash/v2"
)

// A caller who picks prompts whose keys fall in the bucket of an answer
// others use does not push it out with a few dozen answers, far fewer
// than make a hit rewrite it. fastcache picks a key's bucket by an
// unseeded xxhash; were the store's keys the entries' own, anyone could
// compute the bucket of a key they know (under scope shared, that of
// any prompt) and aim at it.
func TestMemoryStoreKeepsAnEntryInUseThroughAFloodAimedAtItsBucket(t *testing.T) {
	m := newMemory(t)
	ctx := context.Background()
	entry := func(name string) *Entry {
		now := time.Now()
		return &Entry{Key: Key(sha256.Sum256([]byte(name))), Model: "m",
			Body: make([]byte, 2000), Stored: now, Expires: now.Add(time.Hour)}
	}
	hot := entry("hot")
	if err := m.Set(ctx, hot.Key, hot); err != nil {
		t.Fatal(err)
	}
	bucket := func(k Key) uint64 { return xxhash.Sum64(k[:]) % 512 }
	sent := 0
	for i := 0; sent < 100; i++ {
		e := entry(fmt.Sprint("flood ", i))
		if bucket(e.Key) != bucket(hot.Key) {
			continue
		}
		sent++
		if err := m.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Get(ctx, hot.Key); got == nil {
			t.Fatalf("the answer in use was pushed out by %d answers aimed at its bucket, %d bytes written", sent, m.written.Load())
		}
	}
}
