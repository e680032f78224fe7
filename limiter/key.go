package limiter

import (
	"crypto/sha256"
	"encoding/hex"
)

// Key is the stored form of a request key: the first 16 bytes of the SHA-256
// of the zone name and the raw key. Raw keys (credentials, addresses) never
// reach a store, so no store or log line can leak them.
type Key [16]byte

// String returns the key in hex, the form text-keyed stores use.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// hashKey derives the stored key of raw in the named zone. The zone name is
// part of the hash so that zones sharing one store never share a bucket.
func hashKey(zone, raw string) Key {
	// A stack buffer avoids an allocation for keys of ordinary size.
	var buf [256]byte
	b := append(buf[:0], zone...)
	b = append(b, 0)
	b = append(b, raw...)
	sum := sha256.Sum256(b)
	var k Key
	copy(k[:], sum[:len(k)])
	return k
}
