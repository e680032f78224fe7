// Package storetest checks that a cache.Store keeps entries as the Store
// contract says. Every store (in memory, in Redis) runs the same tests,
// in the style of testing/fstest, so that the cache behaves the same
// whichever store holds its entries.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
)

// Store is a store under test: one that reports and drops what it holds.
type Store interface {
	cache.Store
	cache.Admin
}

// Run runs the tests, each on a fresh store from open, which must hold at
// least a few MiB.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("SetThenGet", func(t *testing.T) { testSetThenGet(t, open(t)) })
	t.Run("SetKeepsNothing", func(t *testing.T) { testSetKeepsNothing(t, open(t)) })
	t.Run("Misses", func(t *testing.T) { testMisses(t, open) })
	t.Run("Purge", func(t *testing.T) { testPurge(t, open) })
	t.Run("Stats", func(t *testing.T) { testStats(t, open(t)) })
}

// Entry returns an entry named name (its key is derived from the name),
// stored now and expiring after ttl.
func Entry(name, model string, body []byte, ttl time.Duration) *cache.Entry {
	now := time.Now()
	return &cache.Entry{
		Key:         cache.Key(sha256.Sum256([]byte(name))),
		ContentType: "application/json",
		Body:        body,
		Model:       model,
		Stored:      now,
		Expires:     now.Add(ttl),
	}
}

// Diff reports how got differs from want, or "".
func Diff(got, want *cache.Entry) string {
	switch {
	case got == nil:
		return "missing"
	case got.Key != want.Key:
		return "key"
	case got.ContentType != want.ContentType:
		return "content type " + got.ContentType
	case got.Model != want.Model:
		return "model " + got.Model
	case !bytes.Equal(got.Body, want.Body):
		return "body"
	case !got.Stored.Equal(want.Stored):
		return "stored " + got.Stored.String()
	case !got.Expires.Equal(want.Expires):
		return "expires " + got.Expires.String()
	case fmt.Sprint(got.Header) != fmt.Sprint(want.Header):
		return "header " + fmt.Sprint(got.Header)
	}
	return ""
}

// Fill stores n entries of each model, named by model and number, and
// returns them.
func Fill(t testing.TB, s cache.Store, n int, models ...string) []*cache.Entry {
	t.Helper()
	var stored []*cache.Entry
	for _, m := range models {
		for i := range n {
			e := Entry(fmt.Sprint(m, i), m, []byte(fmt.Sprint("answer ", i)), time.Hour)
			if err := s.Set(context.Background(), e.Key, e); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, e)
		}
	}
	return stored
}

func testSetThenGet(t *testing.T, s Store) {
	tests := []struct {
		name string
		e    *cache.Entry
	}{
		{"json", Entry("a", "gpt-4o", []byte(`{"id":"chatcmpl-1","choices":[]}`), time.Hour)},
		{"stream", Entry("b", "claude-sonnet-4", []byte("event: message_stop\ndata: {}\n\n"), time.Minute)},
		{"empty body", Entry("c", "", nil, time.Second)},
		{"large body", Entry("d", "m", bytes.Repeat([]byte("x"), 1<<20), time.Hour)},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Set(ctx, tt.e.Key, tt.e); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, tt.e.Key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := Diff(got, tt.e); diff != "" {
				t.Fatalf("got entry differs: %s", diff)
			}
		})
	}
}

// testSetKeepsNothing: once Set has returned, the caller may write over
// its entry's body and header values and use the entry for another answer
// (the cache does), and a hit's own changes to its header values reach no
// other hit.
func testSetKeepsNothing(t *testing.T, s Store) {
	ctx := context.Background()
	for _, size := range []int{10, 1 << 20} {
		body := bytes.Repeat([]byte("b"), size)
		e := Entry(fmt.Sprint("kept ", size), "gpt-4o", body, time.Hour)
		e.Header = cache.Header{{"en", "fr"}, {"gpt-4o-2024-08-06"}, {"2020-10-01"}}
		want := *e
		want.Body = slices.Clone(body)
		want.Header = cache.Header{{"en", "fr"}, {"gpt-4o-2024-08-06"}, {"2020-10-01"}}
		if err := s.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
		for i := range body {
			body[i] = 'x'
		}
		for _, vs := range e.Header {
			for i := range vs {
				vs[i] = "written over"
			}
		}
		e.Key, e.Model, e.ContentType = cache.Key{0xee}, "other", "text/event-stream"
		if err := s.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, want.Key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := Diff(got, &want); diff != "" {
			t.Fatalf("%d bytes: the entry changed with what Set was given: %s", size, diff)
		}
		got.Header[1][0] = "changed by a hit"
		got.Header[0] = append(got.Header[0], "added by a hit")
		if got, err = s.Get(ctx, want.Key); err != nil {
			t.Fatal(err)
		}
		if diff := Diff(got, &want); diff != "" {
			t.Fatalf("%d bytes: a hit's changes reached the next hit: %s", size, diff)
		}
	}
}

func testMisses(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, s cache.Store) cache.Key
	}{
		{"never stored", func(*testing.T, cache.Store) cache.Key { return cache.Key{9} }},
		{"expired before it was stored", func(t *testing.T, s cache.Store) cache.Key {
			e := Entry("a", "m", []byte("x"), -time.Second)
			if err := s.Set(ctx, e.Key, e); !errors.Is(err, cache.ErrNotKept) {
				t.Fatalf("Set of an expired entry: %v, want ErrNotKept", err)
			}
			return e.Key
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			k := tt.setup(t, s)
			e, err := s.Get(ctx, k)
			if e != nil || err != nil {
				t.Fatalf("got %v, %v; want a miss", e, err)
			}
		})
	}
}

func testPurge(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	tests := []struct {
		name  string
		purge func(Store) error
		left  []string // models whose entries remain
	}{
		{"everything", func(a Store) error { return a.Purge(ctx) }, nil},
		{"one model", func(a Store) error { return a.PurgeModel(ctx, "gpt-4") }, []string{"gpt-4o", ""}},
		{"the empty model", func(a Store) error { return a.PurgeModel(ctx, "") }, []string{"gpt-4", "gpt-4o"}},
		{"an unknown model", func(a Store) error { return a.PurgeModel(ctx, "o1") }, []string{"gpt-4", "gpt-4o", ""}},
	}
	models := []string{"gpt-4", "gpt-4o", ""}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			const perModel = 200 // three models: more than one SCAN batch of Redis
			stored := Fill(t, s, perModel, models...)
			if err := tt.purge(s); err != nil {
				t.Fatal(err)
			}
			left := map[string]int{}
			for _, e := range stored {
				if got, _ := s.Get(ctx, e.Key); got != nil {
					left[e.Model]++
				}
			}
			for _, m := range models {
				want := 0
				if slices.Contains(tt.left, m) {
					want = perModel
				}
				if left[m] != want {
					t.Errorf("model %q: %d entries left, want %d", m, left[m], want)
				}
			}
		})
	}
}

func testStats(t *testing.T, s Store) {
	ctx := context.Background()
	if st, err := s.Stats(ctx); err != nil || st != (cache.Stats{}) {
		t.Fatalf("empty store: %+v, %v", st, err)
	}
	stored := Fill(t, s, 700, "a", "b")
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var body int64
	for _, e := range stored {
		body += int64(len(e.Body))
	}
	if st.Entries != int64(len(stored)) || st.Bytes < body {
		t.Fatalf("stats %+v, want %d entries of at least %d bytes", st, len(stored), body)
	}
}
