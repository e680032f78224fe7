package cache_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
)

// An entry comes back from the memory store as it went in, whatever its
// strings hold: empty ones, bytes that look like the lengths the store
// writes them with, many header values, odd header names.
func TestMemoryStoreKeepsEntriesAsTheyAre(t *testing.T) {
	binary := "\x04\x00\x00\x00gpt\x00\xff\xff\xff\xff"
	tests := []struct {
		name   string
		ct     string
		model  string
		header http.Header
	}{
		{"nothing but a body", "", "", nil},
		{"a model of length-like bytes", "application/json", binary, nil},
		{"a content type of length-like bytes", binary, "gpt-4o", nil},
		{"many values of one header", "text/event-stream", "m",
			http.Header{"Content-Language": strings.Split(strings.Repeat("en,", 300)+"fr", ",")}},
		{"odd names and values", "application/json", "m", http.Header{
			"":                 {""},
			"Openai-Model":     {"", binary, strings.Repeat("x", 70000)},
			"X-\x00\x01":       {"\x00\x00\x00\x00"},
			"Content-Language": {"de"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cache.NewMemoryStore(1 << 24)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
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
	m, err := cache.NewMemoryStore(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
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
	m, err := cache.NewMemoryStore(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	e := storetest.Entry("h", "m", []byte(`{}`), time.Hour)
	e.Header = http.Header{"Openai-Version": {"2020-10-01"}}
	if err := m.Set(ctx, e.Key, e); err != nil {
		t.Fatal(err)
	}
	a, _ := m.Get(ctx, e.Key)
	a.Header["Openai-Version"][0] = "changed"
	a.Header.Add("Openai-Version", "added")
	a.Header.Set("Content-Language", "xx")
	b, _ := m.Get(ctx, e.Key)
	if got := b.Header; len(got) != 1 || len(got["Openai-Version"]) != 1 || got["Openai-Version"][0] != "2020-10-01" {
		t.Fatalf("a second hit sees the first one's changes: %v", got)
	}
}

// A body whose buffer grew by doubling (a stream, an answer without a
// length) is held and counted at its length, not at its buffer's
// capacity: a stored stream does not take twice its bytes of max_size.
func TestMemoryStoreHoldsGrownBodiesAtTheirLength(t *testing.T) {
	m, err := cache.NewMemoryStore(1 << 24)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	body := append(make([]byte, 0, 64<<10), strings.Repeat("data: {}\n\n", 3300)...) // 33,000 of 65,536
	e := storetest.Entry("grown", "m", body, time.Hour)
	if err := m.Set(ctx, e.Key, e); err != nil {
		t.Fatal(err)
	}
	st, err := m.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Its copy may still round up to the allocator's size (whole pages
	// past 32 KiB): a quarter more at most.
	if st.Bytes > int64(len(body))*5/4+1024 {
		t.Fatalf("a body of %d bytes in a buffer of %d counts %d bytes", len(body), cap(body), st.Bytes)
	}
	got, err := m.Get(ctx, e.Key)
	if err != nil || got == nil || string(got.Body) != string(body) {
		t.Fatalf("the entry came back as %v, %v", got, err)
	}
}

// Set says when the store did not keep an entry, and only then: an entry
// that costs more than the whole store is not kept, and whatever Set says
// of new entries in a full store of entries in use, which its admission
// policy may refuse, a Get agrees.
func TestMemoryStoreSaysWhatItDidNotKeep(t *testing.T) {
	ctx := context.Background()
	m, err := cache.NewMemoryStore(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	set := func(name string, size int) (cache.Key, error) {
		t.Helper()
		e := storetest.Entry(name, "m", make([]byte, size), time.Hour)
		err := m.Set(ctx, e.Key, e)
		if err != nil && !errors.Is(err, cache.ErrNotKept) {
			t.Fatal(err)
		}
		if got, _ := m.Get(ctx, e.Key); (got != nil) != (err == nil) {
			t.Fatalf("%s: Set said %v, and a Get found %v", name, err, got != nil)
		}
		return e.Key, err
	}
	if _, err := set("too large", 128<<10); err == nil {
		t.Fatal("an entry larger than the store was kept")
	}
	var held []cache.Key
	for i := range 14 {
		if k, err := set(fmt.Sprint("resident ", i), 4<<10); err == nil {
			held = append(held, k)
		}
	}
	for range 500 {
		for _, k := range held {
			m.Get(ctx, k)
		}
	}
	for i := range 200 {
		set(fmt.Sprint("newcomer ", i), 4<<10)
	}
}
