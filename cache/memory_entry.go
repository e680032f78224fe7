package cache

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

// packed is an Entry as a MemoryStore holds it: in three objects, of which
// only the first holds pointers. A full cache holds hundreds of thousands
// of entries, and the collector marks every one of them on each cycle: as
// Entry values, with a header map, a value slice and a string each, they
// made about ten objects an entry, and the marking cost a third of the
// CPU of a miss-only load once the cache was full.
type packed struct {
	key Key
	// stored and expires are Unix times, in seconds and nanoseconds (a
	// time.Time holds a pointer to its location; nanoseconds alone since
	// 1970 end in 2262, short of the longest TTL).
	stored, expires         int64
	storedNsec, expiresNsec uint32
	// meta is the content type, then the model, then the headers:
	// ctEnd and modelEnd end the first two; each header is its name and
	// its values, each string preceded by its length in 4 bytes, and the
	// values by their count.
	meta            string
	ctEnd, modelEnd uint32
	local           bool
	body            []byte
}

// pack returns e in its packed form. e's body is shared, unless its
// capacity exceeds its length by more than an eighth: an answer without a
// length (a stream) grew its buffer by doubling, and the entry keeps an
// exact copy rather than hold, and count against max_size, up to twice
// its bytes.
func pack(e *Entry) *packed {
	body := e.Body
	if cap(body)-len(body) > len(body)/8 {
		body = bytes.Clone(body)
	}
	var b strings.Builder
	b.Grow(metaSize(e.ContentType, e.Model, e.Header))
	b.WriteString(e.ContentType)
	b.WriteString(e.Model)
	for name, values := range e.Header {
		putString(&b, name)
		putLen(&b, len(values))
		for _, v := range values {
			putString(&b, v)
		}
	}
	return &packed{
		key:         e.Key,
		stored:      e.Stored.Unix(),
		storedNsec:  uint32(e.Stored.Nanosecond()),
		expires:     e.Expires.Unix(),
		expiresNsec: uint32(e.Expires.Nanosecond()),
		local:       e.Local,
		meta:        b.String(),
		ctEnd:       uint32(len(e.ContentType)),
		modelEnd:    uint32(len(e.ContentType) + len(e.Model)),
		body:        body,
	}
}

// metaSize is the bytes of a packed entry's meta.
func metaSize(ct, model string, h http.Header) int {
	n := len(ct) + len(model)
	for name, values := range h {
		n += 8 + len(name)
		for _, v := range values {
			n += 4 + len(v)
		}
	}
	return n
}

func (p *packed) model() string { return p.meta[p.ctEnd:p.modelEnd] }

// storedAt is when the entry was stored.
func (p *packed) storedAt() time.Time { return time.Unix(p.stored, int64(p.storedNsec)) }

// entry returns the Entry p holds. Its strings are p's, not copies.
func (p *packed) entry() *Entry {
	e := &Entry{
		Key:         p.key,
		ContentType: p.meta[:p.ctEnd],
		Model:       p.model(),
		Body:        p.body,
		Stored:      p.storedAt(),
		Expires:     time.Unix(p.expires, int64(p.expiresNsec)),
		Local:       p.local,
	}
	rest := p.meta[p.modelEnd:]
	for len(rest) > 0 {
		if e.Header == nil {
			e.Header = make(http.Header, len(Described))
		}
		var name string
		name, rest = getString(rest)
		n := getLen(rest)
		rest = rest[4:]
		values := make([]string, n)
		for i := range values {
			values[i], rest = getString(rest)
		}
		e.Header[name] = values
	}
	return e
}

func putLen(b *strings.Builder, n int) {
	var l [4]byte
	binary.LittleEndian.PutUint32(l[:], uint32(n))
	b.Write(l[:])
}

func putString(b *strings.Builder, s string) {
	putLen(b, len(s))
	b.WriteString(s)
}

func getLen(s string) int {
	return int(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
}

// getString reads a string putString wrote at the start of s, and returns
// it and the rest of s.
func getString(s string) (string, string) {
	n := getLen(s)
	return s[4 : 4+n], s[4+n:]
}
