package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// names are the members the tests ask for.
var names = []string{"model", "usage", "stream"}

// feed scans body in pieces of n bytes (the whole when n <= 0).
func feed(body []byte, n int, bound int) *jsonscan.Scanner {
	return feedInto(jsonscan.New(bound, names...), body, n)
}

// feedInto is feed with a given Scanner.
func feedInto(s *jsonscan.Scanner, body []byte, n int) *jsonscan.Scanner {
	if n <= 0 {
		n = len(body) + 1
	}
	for len(body) > 0 {
		k := min(n, len(body))
		_, _ = s.Write(body[:k])
		body = body[k:]
	}
	return s
}

// reference reads the members with encoding/json: the last of each name,
// names decoded.
func reference(body []byte) (valid bool, got map[string]json.RawMessage) {
	if !json.Valid(body) {
		return false, nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return true, nil // valid, but not an object
	}
	return true, top
}

func check(t *testing.T, body []byte, piece int) {
	t.Helper()
	s := feed(body, piece, 1<<20)
	// A Scanner Reset after another value reads as a new one.
	used := feed([]byte(`{"model":"before","usage":{"a":[1,{"b":2}]},"stream":"`+strings.Repeat("x", 64)+`"`), 3, 1<<20)
	used.Reset()
	feedInto(used, body, piece)
	if used.Valid() != s.Valid() || used.Size() != s.Size() || used.TextBytes() != s.TextBytes() {
		t.Fatalf("a reused Scanner: valid %v size %d text %d; new: %v %d %d", used.Valid(), used.Size(), used.TextBytes(), s.Valid(), s.Size(), s.TextBytes())
	}
	for i, m := range used.Members() {
		if n := s.Members()[i]; m.Found != n.Found || m.TooLong != n.TooLong || !bytes.Equal(m.Value, n.Value) {
			t.Fatalf("a reused Scanner reads %s = %q, a new one %q", m.Name, m.Value, n.Value)
		}
	}
	valid, want := reference(body)
	if s.Valid() != valid {
		t.Fatalf("pieces of %d: Valid() = %v, encoding/json says %v for %q", piece, s.Valid(), valid, body)
	}
	if s.Size() != int64(len(body)) {
		t.Fatalf("Size %d, want %d", s.Size(), len(body))
	}
	if !valid {
		return
	}
	for _, m := range s.Members() {
		w, ok := want[m.Name]
		if m.Found != ok || m.TooLong || !bytes.Equal(m.Value, w) {
			t.Fatalf("pieces of %d: %s = %q (found %v), encoding/json reads %q (found %v) in %q", piece, m.Name, m.Value, m.Found, w, ok, body)
		}
	}
}

func TestScanner(t *testing.T) {
	for _, body := range []string{
		`{"model":"gpt-4o","messages":[{"model":"inner","content":"\"model\":\"x\""}]}`,
		`{"mod\u0065l":"a","model":"b"}`,
		`{"model":"a","mod\u0065l":"b"}`,
		`{"model" : { "a" : [1, 2.5e-3, true, null] } , "usage":{"prompt_tokens":12}}`,
		`{"stream":true,"stream":false}`,
		`{"model":"\ud83d\ude00\ud800x\udc00"}`,
		`{"\ud800":1,"model":-0.0e+1}`,
		`[{"model":"nested"}]`,
		`"model"`,
		`123`,
		`{}`,
		` { "model" : "x" } `,
		`{"model":"x",}`,
		`{"model":"x"`,
		`{"model":01}`,
		`{"model":1.}`,
		`{"model":1.e5}`,
		`{"model":-}`,
		`{"model":tru}`,
		`{"model":"x"}}`,
		`{"model":"\x"}`,
		`{"model":"\u12"}`,
		"{\"model\":\"a\x01\"}",
		"{\"model\":\"\xff\xfe\"}",
		`{"model":[1,2}`,
		`{"a":1 "b":2}`,
		`{"a"}`,
		`{1:2}`,
		`{"model":"x"} 1`,
		`1 2`,
		`-`,
		`12`,
		``,
		`[0,-0,1e5,1E+5,1e-5,-1.5e10,0.5,10.25,1234567890123,-0.0048392013]`,
		`{"usage":12345,"model":-1.5e3,"stream":0}`,
		`[00]`, `[-01]`, `[1e]`, `[1e+]`, `[.5]`, `[1.5.2]`, `[1e5e5]`, `[--1]`, `[1e+-5]`, `[1-2]`, `[0x1]`, `[1.e]`, `-0`, `1.5e+`,
	} {
		for _, piece := range []int{0, 1, 2, 3, 7} {
			check(t, []byte(body), piece)
		}
	}
}

func TestScannerDepth(t *testing.T) {
	for _, depth := range []int{jsonscan.MaxDepth, jsonscan.MaxDepth + 1} {
		body := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		check(t, []byte(body), 4096)
	}
}

func TestScannerBound(t *testing.T) {
	body := []byte(`{"model":"` + strings.Repeat("x", 100) + `","usage":{"a":1},"model":"` + strings.Repeat("y", 10) + `"}`)
	s := feed(body, 5, 20)
	m := s.Members()
	if !s.Valid() || m[0].TooLong || string(m[0].Value) != `"yyyyyyyyyy"` || string(m[1].Value) != `{"a":1}` {
		t.Fatalf("members %+v", m)
	}
	s = feed(append(body[:len(body)-1:len(body)-1], `,"model":"`+strings.Repeat("z", 30)+`"}`...), 3, 20)
	if m := s.Members()[0]; !s.Valid() || !m.TooLong || m.Value != nil || !m.Found {
		t.Fatalf("last model too long: %+v", m)
	}
}

func TestScannerTextBytes(t *testing.T) {
	for body, want := range map[string]int64{
		`{"k":"abc","l":["\n","é","\u00e9","\ud83d\ude00","\ud800","\udc00x","\ud800\u0041"]}`: 3 + 1 + 2 + 2 + 4 + 3 + 4 + 4,
		`{"longname":1}`: 0,
		"[\"\xff\xfe\"]": 2,
	} {
		if s := feed([]byte(body), 1, 10); !s.Valid() || s.TextBytes() != want {
			t.Errorf("%s: TextBytes %d (valid %v), want %d", body, s.TextBytes(), s.Valid(), want)
		}
	}
}

// FuzzScanner compares what a Scanner fed in pieces of every size reads
// with what encoding/json reads of the whole.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":2},"stream":true}`,
		`{"mod\u0065l":"\ud83d\ude00","model":[{"model":1}]}`,
		`{"usage":null,"x":"\"usage\":{}"}`,
		`[1,-2.5e+7,true,false,null,"s",{}]`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, body []byte, piece uint8) {
		check(t, body, int(piece))
	})
}

func BenchmarkScanner(b *testing.B) {
	var content strings.Builder
	for content.Len() < 1<<20 {
		content.WriteString(`Résumé of the 第三 chapter, part \ud83d\ude00: keep it short.\n`)
	}
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"Chat1MiB", []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + content.String() + `"}],"stream":true}`)},
		// Paragraphs of prose and lines of code, as answers hold them: long
		// plain runs, and short ones between escapes.
		{"Prose1MiB", []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat(strings.Repeat("lorem ipsum ", 30)+`\n\n`, 1<<20/362) + `"}]}`)},
		{"Code1MiB", []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat(`    if err := f(\"x\"); err != nil {\n`, 1<<20/40) + `"}]}`)},
		// An embeddings answer: arrays of floats as OpenAI writes them.
		{"Embeddings1MiB", embeddings(1 << 20)},
		{"Numbers1MiB", []byte("[" + strings.Repeat("1.5e-7,", 1<<20/7) + "1]")},
		{"Structure1MiB", []byte("[" + strings.Repeat(`{"a":[],"b":{}},`, 1<<20/16) + "1]")},
		{"Escapes1MiB", []byte(`{"x":"` + strings.Repeat(`\u00e9\n`, 1<<20/8) + `"}`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				s := jsonscan.New(1<<10, names...)
				for p := tc.body; len(p) > 0; {
					k := min(32<<10, len(p))
					_, _ = s.Write(p[:k])
					p = p[k:]
				}
				if !s.Valid() {
					b.Fatal("not valid")
				}
			}
		})
	}
}

// embeddings returns an embeddings answer of about size bytes: vectors
// of 1,536 floats, each written with up to ten significant digits.
func embeddings(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"list","data":[`)
	x := uint32(1)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"object":"embedding","index":%d,"embedding":[`, i)
		for j := range 1536 {
			if j > 0 {
				b.WriteByte(',')
			}
			x = x*1664525 + 1013904223
			b.WriteString(strconv.FormatFloat((float64(x)/(1<<32)-0.5)/10, 'g', 10, 64))
		}
		b.WriteString("]}")
	}
	b.WriteString(`],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`)
	return []byte(b.String())
}

// TestNumberEnd reads numbers as whole texts' readers do: the end of the
// longest number at the start, and whether it is whole, as encoding/json
// judges the text up to that end.
func TestNumberEnd(t *testing.T) {
	for in, want := range map[string]int{
		"0": 1, "-0": 2, "12,": 2, "1.5]": 3, "-1.5e+10}": 8, "1E5 ": 3, "0.0048392013": 12,
		"01": 1, "1.5.2": 3, "1e5e5": 3, "-0.0e-0": 7,
		"-": -1, "1.": -1, "1.e5": -1, ".5": -1, "1e": -1, "1e+": -1, "--1": -1, "+1": -1, "x": -1, "": -1,
	} {
		end, ok := jsonscan.NumberEnd([]byte(in), 0)
		if ok != (want >= 0) || ok && end != want {
			t.Errorf("NumberEnd(%q) = %d, %v; want %d", in, end, ok, want)
		}
		if ok != json.Valid([]byte(in[:end])) {
			t.Errorf("NumberEnd(%q) = %d, %v; encoding/json reads %q as valid: %v", in, end, ok, in[:end], !ok)
		}
	}
	if end, ok := jsonscan.NumberEnd([]byte(`[1,23]`), 3); !ok || end != 5 {
		t.Errorf("from 3: %d, %v", end, ok)
	}
}
