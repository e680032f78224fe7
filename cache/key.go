package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// Key identifies one cache entry: a SHA-256 over everything that decides
// the answer. It never contains a credential, only its hash.
type Key [sha256.Size]byte

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// NewKey computes the key of a request whose body was parsed into q.
// Every part but the last is length-prefixed, so no two different requests
// feed the hash the same bytes.
func NewKey(r *http.Request, partition string, q *llmreq.Request, ignore []string) Key {
	h := sha256.New()
	prefix := make([]byte, 0, 32+len(r.Method)+len(r.URL.Path)+len(r.URL.RawQuery)+len(partition))
	prefix = appendField(prefix, r.Method)
	prefix = appendField(prefix, r.URL.Path)
	prefix = appendField(prefix, r.URL.RawQuery)
	prefix = appendField(prefix, partition)
	h.Write(prefix)
	// A sha256 digest never fails to write.
	_ = q.WriteCanonical(h, ignore)
	var k Key
	h.Sum(k[:0])
	return k
}

func appendField(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
