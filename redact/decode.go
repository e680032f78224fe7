package redact

import "bytes"

// A key can reach a log written with escapes: percent-encoded in a URI
// ("sk%2Dproj%2D…", "api%5Fkey=…", twice encoded "%252D") or JSON-escaped
// in a string ("sk\u002dproj\u002d…", "\\u002d" in a string in a string).
// No legitimate encoder escapes these bytes, as letters, digits, '-' and
// '_' need no escape in a URI or JSON; so a line that holds such an escape
// is scrubbed twice: as it is, and as a view with those escapes decoded,
// whose secrets are mapped back to the escaped text. Other escapes stay as
// they are in the view, so quotes and backslashes, and what is inside a
// JSON string, are the same in both.

// escapeAt reads src at i. At an escape of a key byte it returns the
// escape's length, the byte and true: '%' then any number of "25" (each a
// level of encoding) then two hex digits; or a run of backslashes then
// "u00" and two hex digits. Elsewhere it returns the length of the text to
// take as it is: a whole run of backslashes, so that each is read once,
// or one byte.
func escapeAt(src []byte, i int) (n int, c byte, ok bool) {
	j := i
	switch src[i] {
	case '%':
		j++
		for j+3 < len(src) && src[j] == '2' && src[j+1] == '5' && is(src[j+2], classHex) && is(src[j+3], classHex) {
			j += 2
		}
	case '\\':
		for j < len(src) && src[j] == '\\' {
			j++
		}
		run := j - i
		if j+5 > len(src) || src[j] != 'u' || src[j+1] != '0' || src[j+2] != '0' {
			return run, 0, false
		}
		j += 3
		if c, ok := hexKeyByte(src[j], src[j+1]); ok {
			return j + 2 - i, c, true
		}
		return run, 0, false
	default:
		return 1, 0, false
	}
	if j+2 <= len(src) {
		if c, ok := hexKeyByte(src[j], src[j+1]); ok {
			return j + 2 - i, c, true
		}
	}
	return 1, 0, false
}

// hexKeyByte decodes two hex digits to a key byte.
func hexKeyByte(hi, lo byte) (byte, bool) {
	if !is(hi, classHex) || !is(lo, classHex) {
		return 0, false
	}
	c := unhex(hi)<<4 | unhex(lo)
	return c, is(c, classKey)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// hasKeyEscape reports whether src holds an escape of a key byte.
func hasKeyEscape(src []byte) bool {
	for _, mark := range []byte{'%', '\\'} {
		for i := 0; ; {
			next := bytes.IndexByte(src[i:], mark)
			if next < 0 {
				break
			}
			n, _, ok := escapeAt(src, i+next)
			if ok {
				return true
			}
			i += next + n
		}
	}
	return false
}

// escapeMarks are the bytes an escape starts with.
const escapeMarks = `%\`

// decodeKeyEscapes appends to dst the view of src: src with the escapes
// of key bytes decoded.
func decodeKeyEscapes(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		k := bytes.IndexAny(src[i:], escapeMarks)
		if k < 0 {
			return append(dst, src[i:]...)
		}
		dst = append(dst, src[i:i+k]...)
		i += k
		n, c, ok := escapeAt(src, i)
		if ok {
			dst = append(dst, c)
		} else {
			dst = append(dst, src[i:i+n]...)
		}
		i += n
	}
	return dst
}

// mapSpans turns spans, secrets of the view text of src, into secrets of
// src: each covers the escapes its bytes came from, and its fingerprint is
// that of the decoded secret, the same as where the key is written plainly.
func mapSpans(spans []span, text, src []byte) []span {
	w := walker{src: src}
	for k, sp := range spans {
		sp.digest, sp.digested = digest(text[sp.start:sp.end]), true
		start := w.at(sp.start)
		sp.keep = w.at(sp.start+sp.keep) - start
		sp.start, sp.end = start, w.at(sp.end)
		spans[k] = sp
	}
	return spans
}

// walker finds where a byte of the view text starts in src: text[j]
// starts at src[i]. It moves forward, and starts over for an earlier
// byte, which the secrets of one rule, in increasing order, never ask.
type walker struct {
	src  []byte
	i, j int
}

func (w *walker) at(p int) int {
	if p < w.j {
		w.i, w.j = 0, 0
	}
	for w.j < p {
		k := bytes.IndexAny(w.src[w.i:], escapeMarks)
		if k < 0 || w.j+k >= p {
			w.i, w.j = w.i+p-w.j, p
			break
		}
		w.i, w.j = w.i+k, w.j+k
		n, _, ok := escapeAt(w.src, w.i)
		if ok {
			w.i, w.j = w.i+n, w.j+1
		} else {
			n = min(n, p-w.j) // a run of backslashes taken as it is
			w.i, w.j = w.i+n, w.j+n
		}
	}
	return w.i
}
