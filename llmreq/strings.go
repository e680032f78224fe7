package llmreq

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// The canonical string form escapes only what JSON requires: '"' as \",
// '\' as \\, bytes below 0x20 as \u00XX, and lone UTF-16 surrogates, which
// have no UTF-8 form, as \uDXXX (hex in lower case). Everything else is raw
// UTF-8, or the raw bytes of the body where they are not UTF-8.

const hexDigits = "0123456789abcdef"

// str scans the JSON string starting at p.in[i] == '"' and appends its
// canonical form to p.buf. It returns the index after the closing quote, the
// number of decoded bytes, and whether the canonical form holds an escape.
func (p *parser) str(i int) (next, decoded int, esc bool, err error) {
	in := p.in
	start := i
	// A local buffer: stores into p.buf would each take a GC write barrier
	// while a collection runs. Errors drop what it holds.
	buf := append(p.buf, '"')
	i++
	for {
		j := jsonscan.IndexSpecial(in, i)
		buf = append(buf, in[i:j]...) // copy plain runs whole
		decoded += j - i
		if j == len(in) {
			return 0, 0, false, p.fail(start, "unterminated string")
		}
		switch in[j] {
		case '"':
			p.buf = append(buf, '"')
			return j + 1, decoded, esc, nil
		case '\\':
		default:
			return 0, 0, false, p.fail(j, "control character in string")
		}
		if j+1 == len(in) {
			return 0, 0, false, p.fail(start, "unterminated string")
		}
		i = j + 2
		var r rune
		switch e := in[j+1]; e {
		case '"', '\\', '/':
			r = rune(e)
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			var ok bool
			if r, ok = hex4(in, i); !ok {
				return 0, 0, false, p.fail(j, "invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				low, ok := hex4(in, i+2)
				if r < 0xdc00 && ok && low >= 0xdc00 && low <= 0xdfff && in[i] == '\\' && in[i+1] == 'u' {
					r = utf16.DecodeRune(r, low)
					i += 6
					break
				}
				buf = append(buf, '\\', 'u', 'd', hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
				decoded += 3 // the length of its generalized UTF-8 form, as appendDecoded writes it
				esc = true
				continue
			}
		default:
			return 0, 0, false, p.fail(j, "invalid escape")
		}
		n := len(buf)
		buf = appendRune(buf, r)
		decoded++
		if r >= utf8.RuneSelf {
			decoded += len(buf) - n - 1
		} else {
			esc = esc || buf[n] == '\\'
		}
	}
}

// appendRune appends r in canonical string form.
func appendRune(b []byte, r rune) []byte {
	switch {
	case r < 0x20:
		return append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&15])
	case r == '"' || r == '\\':
		return append(b, '\\', byte(r))
	}
	return utf8.AppendRune(b, r)
}

// hexValues maps hex digits to their value and every other byte to -1.
var hexValues = func() (t [256]int8) {
	for c := range t {
		t[c] = -1
	}
	for i, c := range "0123456789abcdef" {
		t[c] = int8(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = int8(10 + i)
	}
	return t
}()

// hex4 decodes the four hex digits at s[i:i+4].
func hex4(s []byte, i int) (rune, bool) {
	if i < 0 || len(s)-i < 4 {
		return 0, false
	}
	a, b, c, d := hexValues[s[i]], hexValues[s[i+1]], hexValues[s[i+2]], hexValues[s[i+3]]
	if a|b|c|d < 0 {
		return 0, false
	}
	return rune(a)<<12 | rune(b)<<8 | rune(c)<<4 | rune(d), true
}

// appendDecoded appends the bytes a canonical string (without its quotes)
// stands for. A lone surrogate escape becomes its generalized UTF-8 form
// (three bytes starting 0xED), which orders it among the other code points.
// When lossy, it decodes as encoding/json (and most decoders) do instead:
// a lone surrogate escape, and every byte that is not UTF-8, become U+FFFD.
func appendDecoded(dst, s []byte, lossy bool) []byte {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			i = len(s)
		}
		if lossy && !utf8.Valid(s[:i]) {
			dst = appendLossy(dst, s[:i])
		} else {
			dst = append(dst, s[:i]...)
		}
		if i == len(s) {
			return dst
		}
		if s[i+1] != 'u' {
			dst = append(dst, s[i+1])
			s = s[i+2:]
			continue
		}
		r, _ := hex4(s, i+2)
		switch {
		case r < 0x20:
			dst = append(dst, byte(r))
		case lossy:
			dst = utf8.AppendRune(dst, utf8.RuneError) // only lone surrogates stay escaped
		default:
			dst = append(dst, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
		}
		s = s[i+6:]
	}
}

// appendLossy appends s with each byte that is not part of a UTF-8
// sequence replaced by U+FFFD, as ranging over a string does.
func appendLossy(dst, s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}
