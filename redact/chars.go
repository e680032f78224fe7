package redact

import "encoding/binary"

// Byte classes, as bit sets in one table so a class test is a load and a mask.
const (
	classWord    = 1 << iota // [A-Za-z0-9_]
	classKey                 // [A-Za-z0-9_-]: the alphabet of sk- and AIza keys
	classToken68             // [A-Za-z0-9-._~+/]: RFC 7235 token68, without the '=' padding
	classStop                // ends an unquoted value: blanks, controls, quotes, backslash, delimiters
	classScalar              // [A-Za-z0-9.+-]: the bytes of a JSON number or literal
	classHex                 // [0-9A-Fa-f]
	classLetter              // [A-Za-z]
)

// Anchor letters. Every built-in rule has one of them at a fixed place, so the
// scan stops only at these bytes: k (sk-, api-key, api_key, apikey, key=),
// z (AIza, authorization) and b (bearer).
const (
	anchorNone = iota
	anchorK
	anchorZ
	anchorB
)

var (
	classes [256]uint8
	anchors [256]uint8
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		letter := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
		digit := '0' <= b && b <= '9'
		var k uint8
		if letter {
			k |= classLetter
		}
		if letter || digit || b == '_' {
			k |= classWord
		}
		if letter || digit || b == '_' || b == '-' {
			k |= classKey
		}
		if letter || digit || b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/' {
			k |= classToken68
		}
		if letter || digit || b == '.' || b == '+' || b == '-' {
			k |= classScalar
		}
		if digit || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' {
			k |= classHex
		}
		if b <= ' ' || b == 0x7f {
			k |= classStop
		}
		classes[c] = k
	}
	for _, b := range []byte("\"'\\`&#,;[]{}()<>|") {
		classes[b] |= classStop
	}
	anchors['k'], anchors['K'] = anchorK, anchorK
	anchors['z'], anchors['Z'] = anchorZ, anchorZ
	anchors['b'], anchors['B'] = anchorB, anchorB
}

func is(c byte, class uint8) bool { return classes[c]&class != 0 }

// Eight copies of a byte, for testing eight bytes at once.
const (
	ones   = 0x0101010101010101
	highs  = 0x8080808080808080
	lower8 = 0x2020202020202020 // OR-ed in, folds A-Z onto a-z
	k8     = 'k' * ones
	z8     = 'z' * ones
	b8     = 'b' * ones
)

// nextAnchor returns the index of the first anchor letter at or after i, or
// len(src). It tests eight bytes at a time: OR-ing 0x20 folds K, Z and B onto
// k, z and b (and no other byte onto them), and a word holds a byte equal to
// c exactly when w^c holds a zero byte.
func nextAnchor(src []byte, i int) int {
	for ; i+8 <= len(src); i += 8 {
		w := binary.LittleEndian.Uint64(src[i:]) | lower8
		if hasZero(w^k8)|hasZero(w^z8)|hasZero(w^b8) != 0 {
			break
		}
	}
	for ; i < len(src); i++ {
		if anchors[src[i]] != anchorNone {
			return i
		}
	}
	return i
}

// hasZero is non-zero when x has a zero byte.
func hasZero(x uint64) uint64 { return (x - ones) &^ x & highs }

// runEnd returns the first index at or after i whose byte is not in class.
func runEnd(src []byte, i int, class uint8) int {
	for i < len(src) && classes[src[i]]&class != 0 {
		i++
	}
	return i
}

// stopEnd returns the first index at or after i whose byte is in class.
func stopEnd(src []byte, i int, class uint8) int {
	for i < len(src) && classes[src[i]]&class == 0 {
		i++
	}
	return i
}

// hasFold reports whether src holds lower at index at, ignoring ASCII case.
// lower must be lower-case.
func hasFold[T string | []byte](src []byte, at int, lower T) bool {
	if at < 0 || at+len(lower) > len(src) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := src[at+i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// skipBlanks returns the first index at or after i that is not a space or tab.
func skipBlanks(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return i
}

// quoteMark is a quote as it appears in the text: the quote byte and the
// number of backslashes escaping it (1 inside a JSON string, 3 inside a
// string in a string). The zero value is no quote.
type quoteMark struct {
	char  byte
	level int
}

// skipQuote reads an optional quote at i: a run of backslashes and then " or
// '. It returns the index after it and the quote, or i and no quote.
func skipQuote(src []byte, i int) (int, quoteMark) {
	j := i
	for j < len(src) && src[j] == '\\' {
		j++
	}
	if j < len(src) && (src[j] == '"' || src[j] == '\'') {
		return j + 1, quoteMark{char: src[j], level: j - i}
	}
	return i, quoteMark{}
}

// boundaryBefore reports whether a word starting at i stands apart: it is
// preceded by nothing, by a byte not in glue, or by the last byte of an
// escape (\n, \u00e9, %2F) that stands for another character once decoded.
func boundaryBefore(src []byte, i int, glue uint8) bool {
	if i == 0 || !is(src[i-1], glue) {
		return true
	}
	switch {
	case i >= 2 && src[i-2] == '\\':
		return true
	case i >= 6 && src[i-6] == '\\' && src[i-5] == 'u' &&
		is(src[i-4], classHex) && is(src[i-3], classHex) && is(src[i-2], classHex) && is(src[i-1], classHex):
		return true
	case i >= 3 && src[i-3] == '%' && is(src[i-2], classHex) && is(src[i-1], classHex):
		return true
	}
	return false
}
