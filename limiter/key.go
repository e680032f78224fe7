package limiter

import (
	"crypto/sha256"
	"encoding/hex"
)

// Key is the stored form of a request key: the first 16 bytes of the
// SHA-256 of the raw key, mixed with the zone's salt. Raw keys (credentials,
// addresses) never reach a store, so no store or log line can leak them.
type Key [16]byte

// String returns the key in hex, the form text-keyed stores use.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// hashRaw is the SHA-256 of a raw key, cut to a Key. A request hashes each
// distinct raw key once, however many zones use it.
func hashRaw(raw string) Key {
	// A stack buffer spares an allocation for keys of ordinary size.
	var buf [256]byte
	sum := sha256.Sum256(append(buf[:0], raw...))
	return Key(sum[:len(Key{})])
}

// saltOf is a zone's salt: the hash of its name.
func saltOf(zone string) Key { return hashRaw(zone) }

// salted is k as stored for the zone of the given salt. Zones sharing one
// store thus never share a bucket: two keys meet only if their hashes
// differ by exactly the difference of two zone salts, a 2^-128 chance.
func (k Key) salted(salt Key) Key {
	for i := range k {
		k[i] ^= salt[i]
	}
	return k
}

// hashKey derives the stored key of raw in the named zone.
func hashKey(zone, raw string) Key { return hashRaw(raw).salted(saltOf(zone)) }
