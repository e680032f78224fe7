package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
)

// An entry comes back from the memory store as it went in, whatever its
// strings hold: empty ones, bytes that look like the lengths the store
// writes them with, many header values, odd header values. (A Header's
// values are by position in cache.Described: Content-Language,
// Openai-Model, Openai-Version.)
func TestMemoryStoreKeepsEntriesAsTheyAre(t *testing.T) {
	binary := "\x04\x00\x00\x00gpt\x00\xff\xff\xff\xff"
	tests := []struct {
		name   string
		ct     string
		model  string
		header cache.Header
	}{
		{"nothing but a body", "", "", cache.Header{}},
		{"a model of length-like bytes", "application/json", binary, cache.Header{}},
		{"a content type of length-like bytes", binary, "gpt-4o", cache.Header{}},
		{"many values of one header", "text/event-stream", "m",
			cache.Header{strings.Split(strings.Repeat("en,", 300)+"fr", ",")}},
		{"odd values", "application/json", "m", cache.Header{
			{"de"},
			{"", binary, strings.Repeat("x", 70000)},
			{"\x00\x00\x00\x00"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemoryStore(t)
			e := storetest.Entry(tt.name, tt.model, []byte(`{"a":1}`), time.Hour)
			e.ContentType, e.Header = tt.ct, tt.header
			ctx := context.Background()
			if err := m.Set(ctx, e.Key, e); err != nil {
				t.Fatal(err)
			}
			got, err := m.Get(ctx, e.Key)
			if err != nil {
				t.Fatal(err)
			}
			if d := storetest.Diff(got, e); d != "" {
				t.Fatalf("entry differs: %s", d)
			}
			if err := m.PurgeModel(ctx, tt.model); err != nil {
				t.Fatal(err)
			}
			if got, _ := m.Get(ctx, e.Key); got != nil {
				t.Fatalf("entry of model %q served after a purge of it", tt.model)
			}
		})
	}
}

// An entry with a TTL past 2262 (e.g. ttl 100000d, which the config
// accepts) is served for that long, not taken for expired: its times are
// not kept as nanoseconds since 1970, which stop there.
func TestMemoryStoreKeepsAFarExpiry(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	e := storetest.Entry("far", "gpt-4o", []byte(`{}`), 100000*24*time.Hour)
	if err := m.Set(ctx, e.Key, e); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, e.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("the entry was not kept")
	}
	if !got.Expires.Equal(e.Expires) || !time.Now().Before(got.Expires) {
		t.Fatalf("the entry stored to expire at %s comes back expiring at %s", e.Expires, got.Expires)
	}
}

// Two hits on one entry get headers of their own: a handler that changes
// the header values of one (as replay's callers may) changes nothing of
// the other, nor of what the store holds.
func TestMemoryStoreHitsDoNotShareHeaders(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	e := storetest.Entry("h", "m", []byte(`{}`), time.Hour)
	e.Header = cache.Header{2: {"2020-10-01"}} // Openai-Version
	if err := m.Set(ctx, e.Key, e); err != nil {
		t.Fatal(err)
	}
	a, _ := m.Get(ctx, e.Key)
	a.Header[2][0] = "changed"
	a.Header[2] = append(a.Header[2], "added")
	a.Header[0] = []string{"xx"}
	b, _ := m.Get(ctx, e.Key)
	if got := b.Header; fmt.Sprint(got) != fmt.Sprint(cache.Header{2: {"2020-10-01"}}) {
		t.Fatalf("a second hit sees the first one's changes: %v", got)
	}
}

// Values longer than a part, which the store writes in parts, come back
// whole, and an entry stored again as the other kind is found as stored
// last.
func TestMemoryStoreKeepsLargeEntriesWhole(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	for i, size := range []int{100, 200 << 10, 64 << 10, 1000, 64<<10 - 200, 500 << 10, 10} {
		body := []byte(strings.Repeat(fmt.Sprintf("%d;", i), size/2))
		e := storetest.Entry("one key", "m", body, time.Hour)
		if err := m.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
		got, err := m.Get(ctx, e.Key)
		if err != nil || got == nil {
			t.Fatalf("body of %d: %v, %v", len(body), got, err)
		}
		if d := storetest.Diff(got, e); d != "" {
			t.Fatalf("body of %d differs: %s", len(body), d)
		}
	}
}

// Set writes an entry's byte form in a buffer the next Set reuses: the
// entries stored one after the other, from goroutines at once and of
// sizes on both sides of what the buffers keep, each come back as they
// were, not with bytes of another.
func TestMemoryStoreSetsDoNotShareBytes(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	sizes := []int{10, 1500, 70 << 10, 3000, 200 << 10, 40}
	const writers = 4
	entries := make([][]*cache.Entry, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i, size := range sizes {
				name := fmt.Sprint(w, "/", i)
				e := storetest.Entry(name, "m", []byte(strings.Repeat(name+";", size/len(name))), time.Hour)
				e.Header = cache.Header{1: {name}} // Openai-Model
				if err := m.Set(ctx, e.Key, e); err != nil {
					t.Error(err)
					return
				}
				entries[w] = append(entries[w], e)
			}
		})
	}
	wg.Wait()
	for _, es := range entries {
		for _, e := range es {
			got, err := m.Get(ctx, e.Key)
			if err != nil || got == nil {
				t.Fatalf("%s: %v, %v", e.Header[1][0], got, err)
			}
			if d := storetest.Diff(got, e); d != "" {
				t.Fatalf("%s differs: %s", e.Header[1][0], d)
			}
		}
	}
}

// Set says when the store did not keep an entry, and only then: an entry
// larger than MaxEntry, or one already expired, is not kept; a Get agrees
// with what Set said.
func TestMemoryStoreSaysWhatItDidNotKeep(t *testing.T) {
	ctx := context.Background()
	m := newMemoryStore(t)
	set := func(name string, size int, ttl time.Duration) error {
		t.Helper()
		e := storetest.Entry(name, "m", make([]byte, size), ttl)
		err := m.Set(ctx, e.Key, e)
		if err != nil && !errors.Is(err, cache.ErrNotKept) {
			t.Fatal(err)
		}
		if got, _ := m.Get(ctx, e.Key); (got != nil) != (err == nil) {
			t.Fatalf("%s: Set said %v, and a Get found %v", name, err, got != nil)
		}
		return err
	}
	if err := set("too large", int(m.MaxEntry()), time.Hour); err == nil {
		t.Fatal("an entry larger than MaxEntry was kept")
	}
	if err := set("expired", 10, -time.Second); err == nil {
		t.Fatal("an expired entry was kept")
	}
	for i := range 200 {
		if err := set(fmt.Sprint("entry ", i), 4<<10, time.Hour); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
}

// An entry past its Expires is a miss, as in the Redis store, and a hit
// on it does not rewrite it: an answer nobody may be served does not
// hold on to its place in the store.
func TestMemoryStoreServesNoExpiredEntry(t *testing.T) {
	m := newMemoryStore(t)
	ctx := context.Background()
	e := storetest.Entry("short", "m", []byte(`{}`), 30*time.Millisecond)
	if err := m.Set(ctx, e.Key, e); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, e.Key); got == nil {
		t.Fatal("the entry was not kept")
	}
	time.Sleep(60 * time.Millisecond)
	if got, _ := m.Get(ctx, e.Key); got != nil {
		t.Fatalf("an entry that expired at %s is served at %s", got.Expires, time.Now())
	}
}

// newMemoryStore returns a memory store of the smallest size, closed when
// the test ends.
func newMemoryStore(t testing.TB) *cache.MemoryStore {
	t.Helper()
	m, err := cache.NewMemoryStore(cache.MemoryStep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}
