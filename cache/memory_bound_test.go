package cache

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An answer that fills a memory store's MaxEntry exactly is stored and
// served; one byte more is passed on and not stored.
func TestAnswerAtTheStoresBound(t *testing.T) {
	const ct = "application/json"
	m := newMemory(t)
	fixed := EntryLen(&Entry{Model: "gpt-4o-mini", ContentType: ct,
		Header: Header{1: {"gpt-4o-mini-2024"}}}) // Openai-Model
	for _, extra := range []int{0, 1} {
		n := int(m.MaxEntry()) - fixed + extra
		body := `{"x":"` + strings.Repeat("a", n-8) + `"}`
		if len(body) != n {
			t.Fatal(len(body), n)
		}
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("extra=%d,stream=%v", extra, stream), func(t *testing.T) {
				m.Purge(t.Context())
				calls := 0
				next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls++
					w.Header().Set("Content-Type", ct)
					w.Header().Set("Openai-Model", "gpt-4o-mini-2024")
					if !stream {
						w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					}
					w.Write([]byte(body))
				})
				srv, _ := serve(t, Config{Store: m}, next)
				_, got1, err := fetch(t, srv.URL, jsonBody)
				if err != nil || got1 != body {
					t.Fatalf("miss: %v, %d bytes", err, len(got1))
				}
				hit, got2, err := fetch(t, srv.URL, jsonBody)
				if err != nil || got2 != body {
					t.Fatalf("second: %v, %d bytes", err, len(got2))
				}
				isHit := strings.Contains(hit.Header.Get("Cache-Status"), "hit")
				if isHit != (extra == 0) {
					t.Fatalf("body of %d (bound %d): Cache-Status %q, calls %d", n, int(m.MaxEntry())-fixed, hit.Header.Get("Cache-Status"), calls)
				}
				st, _ := m.Stats(t.Context())
				if st.Bytes > m.MaxSize() {
					t.Fatalf("holds %d of %d", st.Bytes, m.MaxSize())
				}
			})
		}
	}
}

// A model name or an upstream header larger than the store's bound: the
// answer passes whole and is not stored.
func TestAnswerWhoseMetaExceedsTheBound(t *testing.T) {
	big := strings.Repeat("m", 2<<20) // the bound of the smallest store is 1MiB
	for _, tc := range []struct{ name, model, header string }{
		{"model", big, "x"},
		{"header", "gpt-4o-mini", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemory(t)
			body := `{"ok":true}`
			for _, length := range []bool{true, false} {
				next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Openai-Model", tc.header)
					if length {
						w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					}
					w.Write([]byte(body))
				})
				srv, _ := serve(t, Config{Store: m, MaxBody: 4 << 20}, next)
				req := `{"model":"` + tc.model + `","messages":[]}`
				for range 2 {
					resp, got, err := fetch(t, srv.URL, req)
					if err != nil || got != body || strings.Contains(resp.Header.Get("Cache-Status"), "hit") ||
						strings.Contains(resp.Header.Get("Cache-Status"), "stored") {
						t.Fatalf("%v %q %q", err, got, resp.Header.Get("Cache-Status"))
					}
				}
				if st, _ := m.Stats(t.Context()); st.Entries != 0 {
					t.Fatalf("%d entries held", st.Entries)
				}
			}
		})
	}
}

// Values around the length from which the store writes them in parts,
// and around a whole number of parts, come back whole, in the smallest
// store and in one whose parts are the longest.
func TestMemoryStoreValuesAtThePartBound(t *testing.T) {
	for _, size := range []int64{MemoryStep, 8 * MemoryStep} {
		t.Run(fmt.Sprint(size>>20, "MiB"), func(t *testing.T) { testValuesAtThePartBound(t, size) })
	}
}

func testValuesAtThePartBound(t *testing.T, size int64) {
	m, err := NewMemoryStore(size)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := t.Context()
	e := &Entry{Model: "m", ContentType: "application/json", Stored: time.Now(), Expires: time.Now().Add(time.Hour)}
	fixed := headLen + len(AppendEntry(nil, e))
	partLen := m.partLen
	for _, n := range []int{partLen - 1, partLen, partLen + 1, 2 * partLen, 2*partLen + 1, 16*partLen - 1} {
		e.Key[0], e.Key[1] = byte(n), byte(n>>8)
		e.Body = []byte(strings.Repeat("x", n-fixed))
		if err := m.Set(ctx, e.Key, e); err != nil {
			t.Fatal(err)
		}
		got, err := m.Get(ctx, e.Key)
		if err != nil || got == nil || string(got.Body) != string(e.Body) {
			t.Fatalf("a value of %d bytes: %v, %v", n, got != nil, err)
		}
	}
}
