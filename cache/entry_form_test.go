package cache_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/storetest"
	"github.com/llmgate/caddy-llmgate/internal/wire"
)

// version is the first byte of every byte form.
var version = cache.AppendEntry(nil, &cache.Entry{})[0]

func TestEntryFormRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		e    *cache.Entry
	}{
		{"answer", storetest.Entry("a", "gpt-4o", []byte(`{"id":"chatcmpl-1"}`), time.Hour)},
		{"empty strings and body", &cache.Entry{Key: cache.Key{1}, Stored: time.Unix(5, 7), Expires: time.Unix(9, 0)}},
		{"zero times", &cache.Entry{Key: cache.Key{2}, Model: "m", Body: []byte("x")}},
		{"long model", storetest.Entry("b", strings.Repeat("m", 300), []byte("x"), time.Minute)},
		{"binary body", storetest.Entry("c", "m", []byte{0, 1, 2, 255, version}, time.Minute)},
		{"stream", &cache.Entry{Key: cache.Key{3}, ContentType: "text/event-stream", Model: "claude-sonnet-4",
			Body: []byte("data: {}\n\ndata: [DONE]\n\n"), Stored: time.Unix(1_700_000_000, 123456789), Expires: time.Unix(1_800_000_000, 1)}},
		{"headers", &cache.Entry{Key: cache.Key{4}, ContentType: "application/json", Model: "gpt-4o",
			Header: cache.Header{{"en", "fr"}, nil, {"2020-10-01"}}, Body: []byte("{}")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cache.AppendEntry(nil, tt.e)
			if len(b) > cache.EntryLen(tt.e) {
				t.Fatalf("encoded %d bytes, bound %d", len(b), cache.EntryLen(tt.e))
			}
			if !bytes.HasPrefix(b, cache.EntryPrefix(tt.e.Model)) {
				t.Fatal("the value does not start with its model prefix")
			}
			got, err := cache.ReadEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := storetest.Diff(got, tt.e); diff != "" {
				t.Fatalf("decoded entry differs: %s", diff)
			}
			if tt.e.Stored.IsZero() != got.Stored.IsZero() {
				t.Fatal("a zero time did not stay zero")
			}
		})
	}
}

func TestReadEntryBadValues(t *testing.T) {
	good := cache.AppendEntry(nil, storetest.Entry("a", "gpt-4o", []byte("body"), time.Hour))
	tests := []struct {
		name    string
		value   []byte
		missing bool // decodes to no entry and no error
	}{
		{"empty", nil, false},
		{"version only", []byte{version}, false},
		{"another version", append([]byte{version + 1}, good[1:]...), true},
		{"model longer than the value", []byte{version, 0xff, 0x01, 'x'}, false},
		{"bad varint", append([]byte{version}, bytes.Repeat([]byte{0xff}, 11)...), false},
		{"truncated in the key", good[:20], false},
		{"nanoseconds out of range", func() []byte {
			e := cache.AppendEntry(nil, &cache.Entry{})
			i := 2 + len(cache.Key{}) + 1 // version, empty model, key, stored seconds
			return append(append(e[:i:i], 0xff, 0xff, 0xff, 0xff, 0x0f), e[i+1:]...)
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := cache.ReadEntry(tt.value)
			if tt.missing {
				if e != nil || err != nil {
					t.Fatalf("got %v, %v; want a miss", e, err)
				}
				return
			}
			if !errors.Is(err, cache.ErrCorruptEntry) {
				t.Fatalf("got %v, %v; want ErrCorruptEntry", e, err)
			}
		})
	}
	// Every cut of a good value fails cleanly or decodes a shorter body.
	for n := range len(good) {
		if e, err := cache.ReadEntry(good[:n]); err == nil && e != nil && !bytes.HasPrefix([]byte("body"), e.Body) {
			t.Fatalf("cut at %d decoded body %q", n, e.Body)
		}
	}
}

// A form's headers are read by name: a name the form's reader does not
// keep is skipped, and the values of one name apart (which no writer
// writes) are a corrupt form.
func TestReadEntryHeaderNames(t *testing.T) {
	// The form of an entry with no headers and no body ends in its count
	// of header values, 0.
	empty := cache.AppendEntry(nil, &cache.Entry{Key: cache.Key{9}, Model: "m", ContentType: "application/json"})
	form := func(names []string, values [][]string) []byte {
		b := wire.AppendHeader(slices.Clone(empty[:len(empty)-1]), names, values)
		return append(b, "{}"...)
	}
	e, err := cache.ReadEntry(form([]string{"X-Other", "Openai-Version", "Content-Language", "X-Other"},
		[][]string{{"a"}, {"v"}, {"en", "fr"}, {"b"}}))
	if err != nil || e == nil {
		t.Fatalf("got %v, %v", e, err)
	}
	if got, want := fmt.Sprint(e.Header), fmt.Sprint(cache.Header{{"en", "fr"}, nil, {"v"}}); got != want || string(e.Body) != "{}" {
		t.Fatalf("headers %s, body %q; want %s", got, e.Body, want)
	}
	_, err = cache.ReadEntry(form([]string{"Openai-Version", "Content-Language", "Openai-Version"}, [][]string{{"a"}, {"b"}, {"c"}}))
	if !errors.Is(err, cache.ErrCorruptEntry) {
		t.Fatalf("values of one name apart: %v", err)
	}
}

func FuzzReadEntry(f *testing.F) {
	f.Add(cache.AppendEntry(nil, storetest.Entry("a", "gpt-4o", []byte("body"), time.Hour)))
	withHeaders := storetest.Entry("h", "gpt-4o", []byte("{}"), time.Hour)
	withHeaders.Header = cache.Header{{"en", "fr"}, {"gpt-4o-2024-08-06"}, {"2020-10-01"}}
	f.Add(cache.AppendEntry(nil, withHeaders))
	f.Add([]byte{version, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := cache.ReadEntry(b)
		if err != nil || e == nil {
			return
		}
		// What decodes survives a round trip unchanged.
		again, err := cache.ReadEntry(cache.AppendEntry(nil, e))
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if diff := storetest.Diff(again, e); diff != "" {
			t.Fatalf("round trip changed the %s", diff)
		}
	})
}
