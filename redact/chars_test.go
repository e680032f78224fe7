package redact

import (
	"math/rand/v2"
	"testing"
)

// TestNextAnchor checks the eight-bytes-at-a-time search against a plain
// byte loop, for every byte value at every offset of a word.
func TestNextAnchor(t *testing.T) {
	naive := func(src []byte, i int) int {
		for ; i < len(src); i++ {
			if anchors[src[i]] != anchorNone {
				return i
			}
		}
		return i
	}
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			src := make([]byte, 20)
			for j := range src {
				src[j] = '.'
			}
			src[at] = byte(c)
			for from := 0; from <= len(src); from++ {
				if got, want := nextAnchor(src, from), naive(src, from); got != want {
					t.Fatalf("byte %#x at %d from %d: got %d, want %d", c, at, from, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 2000; n++ {
		src := make([]byte, r.IntN(64))
		for j := range src {
			src[j] = byte(r.IntN(256))
		}
		from := r.IntN(len(src) + 1)
		if got, want := nextAnchor(src, from), naive(src, from); got != want {
			t.Fatalf("%q from %d: got %d, want %d", src, from, got, want)
		}
	}
}
