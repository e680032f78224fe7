package llmreq

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// The image walk reads strings as written in a body already checked:
// these read them in place, decoding no more than they compare.

// stringEnd returns the index of the quote that ends the string whose
// contents start at b[i], in valid JSON.
func stringEnd(b []byte, i int) int {
	for {
		i = jsonscan.IndexSpecial(b, i)
		if b[i] == '"' {
			return i
		}
		i += 2 // an escape; the digits of \u are never special
	}
}

func isDelimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// decodesTo reports whether s, the contents of a JSON string as written,
// decodes to name, which is ASCII.
func decodesTo(s []byte, name string) bool {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s) == name
	}
	n := 0
	for i := 0; i < len(s); n++ {
		c := s[i]
		if c == '\\' {
			var ok bool
			if c, i, ok = unescapeASCII(s, i); !ok {
				return false
			}
		} else {
			i++
		}
		if n == len(name) || name[n] != c {
			return false
		}
	}
	return n == len(name)
}

// unescapeASCII decodes the escape at s[i] of a valid JSON string, and
// returns the index after it; ok is false when it stands for more than
// one byte.
func unescapeASCII(s []byte, i int) (c byte, next int, ok bool) {
	switch e := s[i+1]; e {
	case 'u':
		r, _ := hex4(s, i+2)
		return byte(r), i + 6, r < utf8.RuneSelf
	case 'b':
		return '\b', i + 2, true
	case 'f':
		return '\f', i + 2, true
	case 'n':
		return '\n', i + 2, true
	case 'r':
		return '\r', i + 2, true
	case 't':
		return '\t', i + 2, true
	default: // '"', '\\', '/'
		return e, i + 2, true
	}
}

// decodedLen is the number of bytes s, the contents of a valid JSON string
// as written, decodes to, counted as Fields.TextBytes counts them: a lone
// surrogate escape as 3, a byte that is not UTF-8 as 1.
func decodedLen(s []byte) int64 {
	n := int64(len(s))
	for i := bytes.IndexByte(s, '\\'); i >= 0; {
		if s[i+1] != 'u' {
			n-- // two bytes of escape, one of text
			i += 2
		} else {
			r, _ := hex4(s, i+2)
			size := 6
			switch {
			case !utf16.IsSurrogate(r):
				n -= int64(size - utf8.RuneLen(r))
			case isPair(s, i, r):
				size = 12
				n -= 12 - 4
			default:
				n -= 6 - 3 // a lone surrogate
			}
			i += size
		}
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			break
		}
		i += j
	}
	return n
}

// isPair reports whether the \u escape at s[i], of the surrogate r, is
// the high half of a pair that the next escape completes.
func isPair(s []byte, i int, r rune) bool {
	if r >= 0xdc00 || len(s)-i < 12 || s[i+6] != '\\' || s[i+7] != 'u' {
		return false
	}
	low, ok := hex4(s, i+8)
	return ok && low >= 0xdc00 && low <= 0xdfff
}
