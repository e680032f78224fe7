package redact

import (
	"bytes"
	"crypto/sha256"
	"slices"
)

// span is one secret found in a text: src[start:end] is replaced, except its
// first keep bytes (a known, non-secret prefix such as "sk-proj-").
type span struct {
	start, end int
	keep       int
	// quote wraps the replacement in double quotes: it stands for a JSON
	// number or literal, outside any string, that an extra pattern matched.
	quote bool
	// digest is the fingerprint of the secret as decoded, when src holds
	// it escaped and digested is set; else that of src[start:end].
	digest   [2]byte
	digested bool
}

// marker starts every replacement; text already carrying it is left alone,
// so scrubbing twice gives the same text as scrubbing once.
const marker = "[REDACTED"

// knownPrefixes are the non-secret beginnings of key shapes, longest first
// where one is a prefix of another.
var knownPrefixes = []string{
	"sk-ant-api03-", "sk-ant-admin01-", "sk-ant-oat01-", "sk-ant-ort01-",
	"sk-svcacct-", "sk-admin-", "sk-proj-", "sk-", "AIza", "gsk_",
}

// prefixLen returns the length of the known prefix secret starts with, or 0.
func prefixLen(secret []byte) int {
	for _, p := range knownPrefixes {
		if len(secret) >= len(p) && string(secret[:len(p)]) == p {
			return len(p)
		}
	}
	return 0
}

// keepLen is the part of secret left visible: its known prefix, unless the
// prefix is all there is.
func keepLen(secret []byte) int {
	if n := prefixLen(secret); n < len(secret) {
		return n
	}
	return 0
}

// credentialLike tells a token from a word of prose, for values seen outside
// quotes ("authorization: required", "the bearer of bad news"): at least 8
// bytes and a digit, a punctuation byte other than '-', or an upper-case letter
// after the first — or a known key prefix. Random tokens have these almost
// surely; English words have none.
func credentialLike(tok []byte) bool {
	if keepLen(tok) > 0 {
		return true
	}
	if len(tok) < 8 {
		return false
	}
	for i, c := range tok {
		switch {
		case c >= 0x80 || c == '-':
		case 'A' <= c && c <= 'Z':
			if i > 0 {
				return true
			}
		case 'a' <= c && c <= 'z':
		default:
			return true
		}
	}
	return false
}

// redacted reports whether the value at src[start:end] was redacted already:
// it is Caddy's own "REDACTED", or it is the marker after a known prefix.
func redacted(src []byte, start, end int) bool {
	if string(src[start:end]) == "REDACTED" || bytes.HasPrefix(src[start:], []byte(marker)) {
		return true
	}
	return keptPrefix(src, start)
}

// keptPrefix reports whether src at start holds a known prefix, written
// plainly or with escapes ("sk%2Dproj%2D"), and then the marker: the
// visible part of a secret replaced by an earlier pass.
func keptPrefix(src []byte, start int) bool {
	if bytes.IndexAny(src[start:min(len(src), start+64)], escapeMarks) < 0 {
		// Written plainly (every known prefix is shorter than 64 bytes).
		n := prefixLen(src[start:])
		return n > 0 && bytes.HasPrefix(src[start+n:], []byte(marker))
	}
	var buf [16]byte // longer than every known prefix
	d := buf[:0]
	for i := start; i < len(src) && len(d) < len(buf); {
		n, c, ok := escapeAt(src, i)
		if !ok {
			n, c = 1, src[i]
		}
		d, i = append(d, c), i+n
		switch startsKnownPrefix(d) {
		case prefixNone:
			return false
		case prefixWhole:
			if bytes.HasPrefix(src[i:], []byte(marker)) {
				return true
			}
		}
	}
	return false
}

// How text starts a known prefix.
const (
	prefixNone  = iota // it starts none
	prefixPart         // it is the beginning of one
	prefixWhole        // it is one
)

// startsKnownPrefix tells whether d is a known prefix or the beginning of
// one.
func startsKnownPrefix(d []byte) int {
	part := prefixNone
	for _, p := range knownPrefixes {
		switch {
		case len(d) > len(p) || string(d) != p[:len(d)]:
		case len(d) == len(p):
			return prefixWhole
		default:
			part = prefixPart
		}
	}
	return part
}

// digest returns the first two bytes of the SHA-256 of secret: the
// fingerprint in its marker.
func digest(secret []byte) [2]byte {
	sum := sha256.Sum256(secret)
	return [2]byte{sum[0], sum[1]}
}

// appendMarker appends "[REDACTED:xxxx]", xxxx being the hex of d.
func appendMarker(dst []byte, d [2]byte) []byte {
	const hex = "0123456789abcdef"
	return append(append(dst, marker+":"...),
		hex[d[0]>>4], hex[d[0]&15], hex[d[1]>>4], hex[d[1]&15], ']')
}

// writer copies src to out, replacing spans given in increasing order.
type writer struct {
	out  []byte
	src  []byte
	last int
}

func newWriter(dst, src []byte) writer {
	return writer{out: slices.Grow(dst, len(src)+32), src: src}
}

func (w *writer) put(sp span) {
	w.out = append(w.out, w.src[w.last:sp.start]...)
	if sp.quote {
		w.out = append(w.out, '"')
	}
	w.out = append(w.out, w.src[sp.start:sp.start+sp.keep]...)
	if !sp.digested {
		sp.digest = digest(w.src[sp.start:sp.end])
	}
	w.out = appendMarker(w.out, sp.digest)
	if sp.quote {
		w.out = append(w.out, '"')
	}
	w.last = sp.end
}

func (w *writer) finish() []byte {
	return append(w.out, w.src[w.last:]...)
}
