package cache

import (
	"errors"

	"github.com/llmgate/caddy-llmgate/internal/wire"
)

// The byte form of an Entry, in which both stores hold it: a Redis value,
// and the one allocation a MemoryStore keeps an entry in.
//
//	version            1 byte
//	model              uvarint length, bytes (first, so that a purge can
//	                   compare a prefix of the form, as Redis' GETRANGE does)
//	key                32 bytes
//	stored, expires    each varint Unix seconds, uvarint nanoseconds
//	content type       uvarint length, bytes
//	headers            uvarint count, then each name and value as
//	                   uvarint length, bytes (one pair per value)
//	body               the rest
//
// Local is not part of it: it says which store an entry came from.

// entryFormVersion starts the form. A stored form of another version
// reads as missing (and is overwritten by the next answer), so a change
// of the form needs no migration of what Redis holds.
const entryFormVersion byte = 2

// ErrCorruptEntry reports bytes that are not an entry's byte form.
var ErrCorruptEntry = errors.New("corrupt entry")

// AppendEntry appends the byte form of e to b.
func AppendEntry(b []byte, e *Entry) []byte {
	b = append(b, entryFormVersion)
	b = wire.AppendString(b, e.Model)
	b = append(b, e.Key[:]...)
	b = wire.AppendTime(b, e.Stored)
	b = wire.AppendTime(b, e.Expires)
	b = wire.AppendString(b, e.ContentType)
	b = wire.AppendHeader(b, Described, e.Header[:])
	return append(b, e.Body...)
}

// EntryLen is the most bytes the byte form of e takes. Its times count at
// their longest, so that the bound of an entry not yet stored holds
// whenever it is.
func EntryLen(e *Entry) int {
	return 1 + wire.StringLen(e.Model) + len(e.Key) + 2*wire.MaxTimeLen +
		wire.StringLen(e.ContentType) + wire.HeaderLen(Described, e.Header[:]) + len(e.Body)
}

// EntryPrefix is how the byte form of every entry of model begins.
func EntryPrefix(model string) []byte {
	b := make([]byte, 0, 1+wire.StringLen(model))
	return wire.AppendString(append(b, entryFormVersion), model)
}

// ReadEntry reads an entry's byte form. The entry shares b: its body and
// its strings are b's memory, so nothing may write to b afterwards. It
// returns nil and no error for a form of another version.
func ReadEntry(b []byte) (*Entry, error) {
	r, ok := formReader(b)
	if !ok {
		return nil, nil
	}
	e := &Entry{Model: r.String()}
	copy(e.Key[:], r.Bytes(len(e.Key)))
	e.Stored = r.Time()
	e.Expires = r.Time()
	e.ContentType = r.String()
	r.Header(Described, e.Header[:])
	if r.Bad {
		return nil, ErrCorruptEntry
	}
	e.Body = r.B
	return e, nil
}

// formReader reads b past its version, and reports whether that version
// is the one this code writes. An empty b reads as corrupt.
func formReader(b []byte) (r wire.Reader, ok bool) {
	if len(b) == 0 {
		return wire.Reader{Bad: true, Share: true}, true
	}
	return wire.Reader{B: b[1:], Share: true}, b[0] == entryFormVersion
}
