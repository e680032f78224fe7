package redisstore

import (
	"encoding/binary"
	"errors"
	"net/http"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
)

// formatVersion starts every stored value; a value of another version is
// treated as missing (and overwritten by the next answer), so a change of
// format needs no migration.
const formatVersion byte = 2

// The layout of a stored value:
//
//	version            1 byte
//	model              uvarint length, bytes (first, so PurgeModel can
//	                   compare a prefix of the value with GETRANGE)
//	key                32 bytes
//	stored, expires    each varint Unix seconds, uvarint nanoseconds
//	content type       uvarint length, bytes
//	headers            uvarint count, then each name and value as
//	                   uvarint length, bytes (one pair per value)
//	body               the rest

// errCorrupt reports a stored value that does not decode.
var errCorrupt = errors.New("corrupt entry")

// modelPrefix is how a value stored for model begins.
func modelPrefix(model string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(model))
	b = append(b, formatVersion)
	b = binary.AppendUvarint(b, uint64(len(model)))
	return append(b, model...)
}

// encode appends the stored form of e to b.
func encode(b []byte, e *cache.Entry) []byte {
	b = append(b, formatVersion)
	b = appendString(b, e.Model)
	b = append(b, e.Key[:]...)
	b = appendTime(b, e.Stored)
	b = appendTime(b, e.Expires)
	b = appendString(b, e.ContentType)
	b = binary.AppendUvarint(b, uint64(headerValues(e.Header)))
	for k, vs := range e.Header {
		for _, v := range vs {
			b = appendString(appendString(b, k), v)
		}
	}
	return append(b, e.Body...)
}

// headerValues counts the values of h.
func headerValues(h http.Header) int {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	return n
}

// encodedLen is the length of the stored form of e, an upper bound.
func encodedLen(e *cache.Entry) int {
	n := 1 + len(e.Key) + 4*binary.MaxVarintLen64 + 3*binary.MaxVarintLen64 +
		len(e.Model) + len(e.ContentType) + len(e.Body)
	for k, vs := range e.Header {
		for _, v := range vs {
			n += 2*binary.MaxVarintLen64 + len(k) + len(v)
		}
	}
	return n
}

// decode reads a stored value. The entry's Body shares b's memory. It
// returns nil and no error for a value of another format version.
func decode(b []byte) (*cache.Entry, error) {
	if len(b) == 0 {
		return nil, errCorrupt
	}
	if b[0] != formatVersion {
		return nil, nil
	}
	d := decoder{b: b[1:]}
	e := &cache.Entry{}
	e.Model = d.string()
	copy(e.Key[:], d.bytes(len(e.Key)))
	e.Stored = d.time()
	e.Expires = d.time()
	e.ContentType = d.string()
	// Each value takes at least two bytes: a count beyond that is corrupt,
	// and must not size an allocation.
	if n := d.uvarint(); n > uint64(len(d.b)/2) {
		d.bad = true
	} else if n > 0 {
		e.Header = make(http.Header, n)
		for range n {
			k := d.string()
			e.Header[k] = append(e.Header[k], d.string())
		}
	}
	if d.bad {
		return nil, errCorrupt
	}
	e.Body = d.b
	return e, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// decoder reads a value front to back; past the first error it reads
// zero values and remembers the failure in bad.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 { return number(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return number(d, binary.Varint) }

// number reads one number off the front of d with read (binary.Uvarint or
// binary.Varint, which share their way of saying a number is cut short).
func number[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *decoder) time() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= uint64(time.Second) {
		d.bad = true
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec))
}
