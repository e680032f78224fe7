package jsonscan

import (
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

// IndexSpecial returns the index of the first byte at or after i that is '"',
// '\' or below 0x20, or len(s). It tests words of eight bytes: a lane of
// x - 0x01.. borrows into its high bit exactly when it was zero (or, for the
// "below 0x20" test, below the subtrahend), and a borrow only ever spreads to
// higher lanes, so the lowest flagged lane is the first match.
func IndexSpecial(s []byte, i int) int {
	for ; i+16 <= len(s); i += 16 {
		// Two words a turn: the loads and tests of both overlap.
		x, y := binary.LittleEndian.Uint64(s[i:]), binary.LittleEndian.Uint64(s[i+8:])
		if m := specials(x); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		if m := specials(y); m != 0 {
			return i + 8 + bits.TrailingZeros64(m)/8
		}
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
