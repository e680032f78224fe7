package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// special marks the bytes that end a plain run inside a JSON string.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specials flags the high bit of each byte lane of x holding '"', '\' or a
// byte below 0x20; lanes above the first flagged one may be flagged wrongly.
func specials(x uint64) uint64 {
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return ((x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b) & highs
}

// controls is specials for the bytes below 0x20 alone, before the mask of
// high bits: callers OR several words together and mask once.
func controls(x uint64) uint64 { return (x - ones*0x20) &^ x }

// shortRun is how far IndexSpecial looks word by word before it turns to
// the vectorised search: most runs (member names, words between escapes)
// end sooner, and a vectorised search costs a call and its set-up.
const shortRun = 128

// window is the most a vectorised search reads at a time: a quote far
// ahead is not searched for again after each escape on the way to it.
const window = 4096

// firstWindow is the size of the first window, doubled after each.
const firstWindow = 128

// IndexSpecial returns the index of the first byte at or after i that is '"',
// '\' or below 0x20, or len(s).
//
// It tests the first bytes a word of eight at a time: a lane of
// x - 0x01.. borrows into its high bit exactly when it was zero (or, for
// the "below 0x20" test, below the subtrahend), and a borrow only ever
// spreads to higher lanes, so the lowest flagged lane is the first match.
// A longer run is searched a window at a time: the quote and the backslash
// by bytes.IndexByte, which uses the machine's vector instructions, and the
// bytes before the nearer one for control bytes, four words a test.
func IndexSpecial(s []byte, i int) int {
	for end := min(i+shortRun, len(s)-15); i < end; i += 16 {
		// Two words a turn: the loads and tests of both overlap.
		x, y := binary.LittleEndian.Uint64(s[i:]), binary.LittleEndian.Uint64(s[i+8:])
		if m := specials(x); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		if m := specials(y); m != 0 {
			return i + 8 + bits.TrailingZeros64(m)/8
		}
	}
	if i+16 <= len(s) {
		return indexSpecialLong(s, i)
	}
	for ; i+8 <= len(s); i += 8 {
		if m := specials(binary.LittleEndian.Uint64(s[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if special[s[i]] {
			return i
		}
	}
	return len(s)
}

// indexSpecialLong is IndexSpecial past the first bytes of a run, a window
// at a time.
func indexSpecialLong(s []byte, i int) int {
	for size := firstWindow; i < len(s); size = min(2*size, window) {
		w := s[i:min(i+size, len(s))]
		n := bytes.IndexByte(w, '"')
		if n < 0 {
			n = len(w)
		}
		if b := bytes.IndexByte(w[:n], '\\'); b >= 0 {
			n = b
		}
		if c := indexControl(w[:n]); c < n {
			return i + c
		}
		if n < len(w) {
			return i + n
		}
		i += n
	}
	return len(s)
}

// indexControl returns the index of the first byte of s below 0x20, or
// len(s).
func indexControl(s []byte) int {
	le := binary.LittleEndian
	i := 0
	for ; i+32 <= len(s); i += 32 {
		b := s[i : i+32]
		if (controls(le.Uint64(b))|controls(le.Uint64(b[8:]))|
			controls(le.Uint64(b[16:]))|controls(le.Uint64(b[24:])))&highs != 0 {
			break // in this block: found below
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if m := controls(le.Uint64(s[i:])) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 {
			return i
		}
	}
	return len(s)
}
