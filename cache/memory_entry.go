package cache

import (
	"bytes"
	"net/http"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/wire"
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
	local                   bool
	// meta is the model, the content type and the headers, in the byte
	// form of internal/wire (the one Redis values use). Nothing writes to
	// it after pack: the strings of the entries read from it share it.
	meta []byte
	body []byte
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
	meta := make([]byte, 0, metaSize(e.ContentType, e.Model, e.Header))
	meta = wire.AppendString(meta, e.Model)
	meta = wire.AppendString(meta, e.ContentType)
	meta = wire.AppendHeader(meta, e.Header)
	return &packed{
		key:         e.Key,
		stored:      e.Stored.Unix(),
		storedNsec:  uint32(e.Stored.Nanosecond()),
		expires:     e.Expires.Unix(),
		expiresNsec: uint32(e.Expires.Nanosecond()),
		local:       e.Local,
		meta:        meta,
		body:        body,
	}
}

// metaSize is the bytes of a packed entry's meta.
func metaSize(ct, model string, h http.Header) int {
	return wire.StringLen(model) + wire.StringLen(ct) + wire.HeaderLen(h)
}

// reader reads p's meta, its strings sharing it.
func (p *packed) reader() wire.Reader { return wire.Reader{B: p.meta, Share: true} }

func (p *packed) model() string {
	r := p.reader()
	return r.String()
}

// storedAt is when the entry was stored.
func (p *packed) storedAt() time.Time { return time.Unix(p.stored, int64(p.storedNsec)) }

// entry returns the Entry p holds. Its strings are p's, not copies.
func (p *packed) entry() *Entry {
	r := p.reader()
	return &Entry{
		Key:         p.key,
		Model:       r.String(),
		ContentType: r.String(),
		Header:      r.Header(),
		Body:        p.body,
		Stored:      p.storedAt(),
		Expires:     time.Unix(p.expires, int64(p.expiresNsec)),
		Local:       p.local,
	}
}
