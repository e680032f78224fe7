package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/http"
	"sync"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// Key identifies one cache entry: a SHA-256 over everything that decides
// the answer (method, host, path, query, scope partition, canonical body). It never contains a credential, only its hash.
type Key [sha256.Size]byte

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// NewKey computes the key of a request whose body was parsed into q.
// Every part but the last is length-prefixed, so no two different requests
// feed the hash the same bytes.
func NewKey(r *http.Request, partition string, q *llmreq.Request, ignore []string) Key {
	kh := keyHashers.Get().(*keyHasher)
	defer keyHashers.Put(kh)
	kh.h.Reset()
	prefix := kh.prefix[:0]
	prefix = appendField(prefix, r.Method)
	// The host: one Caddy may serve sites that proxy the same paths to
	// different upstreams, and their stores may be shared.
	prefix = appendField(prefix, r.Host)
	prefix = appendField(prefix, r.URL.Path)
	prefix = appendField(prefix, r.URL.RawQuery)
	prefix = appendField(prefix, partition)
	kh.h.Write(prefix)
	// A sha256 digest never fails to write.
	_ = q.WriteCanonical(kh.h, ignore)
	// Summed into the pooled buffer: a slice of a local Key handed to the
	// hash.Hash interface would move the Key to the heap.
	var k Key
	copy(k[:], kh.h.Sum(kh.sum[:0]))
	if cap(prefix) <= maxPooledPrefix {
		kh.prefix = prefix
	}
	return k
}

// keyHasher is a digest and a buffer for the key's prefix, reused from one
// request to the next.
type keyHasher struct {
	h      hash.Hash
	prefix []byte
	sum    [sha256.Size]byte
}

// maxPooledPrefix bounds the buffer a pooled keyHasher keeps (a prefix
// is small unless a query string is huge).
const maxPooledPrefix = 4 << 10

var keyHashers = sync.Pool{New: func() any { return &keyHasher{h: sha256.New()} }}

func appendField(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
