package jsonscan_test

import (
	"bytes"
	"testing"

	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// indexSpecial is IndexSpecial a byte at a time.
func indexSpecial(s []byte, i int) int {
	for ; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return len(s)
}

// TestIndexSpecial puts each byte that ends a run, and each that comes
// near one in a word test (its high-bit twin, the neighbours of 0x20),
// at every place of runs short and long enough for each way of searching,
// after plain bytes of both halves of the byte range, and starts the
// search before, at and past it.
func TestIndexSpecial(t *testing.T) {
	var probes []byte
	for c := range 256 {
		if c < 0x21 || c == '"' || c == '\\' || c == '"'|0x80 || c == '\\'|0x80 || c >= 0x80 && c < 0xa1 {
			probes = append(probes, byte(c))
		}
	}
	few := []byte{0, 0x1f, 0x20, '"', '\\', '"' | 0x80, '\\' | 0x80, 0x80, 0x9f}
	for _, fill := range []byte{'a', 0xe9} {
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257, 513, 1000, 4200, 8300} {
			s := bytes.Repeat([]byte{fill}, n)
			if got := jsonscan.IndexSpecial(s, 0); got != n {
				t.Fatalf("%d plain bytes %#x: got %d, want %d", n, fill, got, n)
			}
			for at := range n {
				if at > 80 && at < n-80 && at%251 != 0 {
					continue // the middle of long runs: a sample is enough
				}
				ps := probes
				if n > 200 {
					ps = few // long runs: one of each kind
				}
				for _, c := range ps {
					s[at] = c
					for _, from := range []int{0, at, at + 1} {
						if got, want := jsonscan.IndexSpecial(s, from), indexSpecial(s, from); got != want {
							t.Fatalf("%d bytes %#x, %#x at %d, from %d: got %d, want %d", n, fill, c, at, from, got, want)
						}
					}
				}
				s[at] = fill
			}
		}
	}
}

func FuzzIndexSpecial(f *testing.F) {
	f.Add(bytes.Repeat([]byte("lorem ipsum "), 40), 3)
	f.Add(append(bytes.Repeat([]byte{0xa2}, 300), '\\', '"', 0x1f), 0)
	f.Fuzz(func(t *testing.T, s []byte, i int) {
		if i < 0 || i > len(s) {
			return
		}
		if got, want := jsonscan.IndexSpecial(s, i), indexSpecial(s, i); got != want {
			t.Fatalf("IndexSpecial(%q, %d) = %d, want %d", s, i, got, want)
		}
	})
}
