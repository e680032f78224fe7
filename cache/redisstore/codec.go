package redisstore

import (
	"encoding/binary"
	"errors"

	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/internal/wire"
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
	b := make([]byte, 0, 1+wire.StringLen(model))
	return wire.AppendString(append(b, formatVersion), model)
}

// encode appends the stored form of e to b.
func encode(b []byte, e *cache.Entry) []byte {
	b = append(b, formatVersion)
	b = wire.AppendString(b, e.Model)
	b = append(b, e.Key[:]...)
	b = wire.AppendTime(b, e.Stored)
	b = wire.AppendTime(b, e.Expires)
	b = wire.AppendString(b, e.ContentType)
	b = wire.AppendHeader(b, e.Header)
	return append(b, e.Body...)
}

// encodedLen is the length of the stored form of e, an upper bound.
func encodedLen(e *cache.Entry) int {
	return 1 + len(e.Key) + 4*binary.MaxVarintLen64 + wire.StringLen(e.Model) +
		wire.StringLen(e.ContentType) + wire.HeaderLen(e.Header) + len(e.Body)
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
	r := wire.Reader{B: b[1:]}
	e := &cache.Entry{}
	e.Model = r.String()
	copy(e.Key[:], r.Bytes(len(e.Key)))
	e.Stored = r.Time()
	e.Expires = r.Time()
	e.ContentType = r.String()
	e.Header = r.Header()
	if r.Bad {
		return nil, errCorrupt
	}
	e.Body = r.B
	return e, nil
}
