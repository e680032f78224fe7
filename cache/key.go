package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// Key identifies one cache entry: a SHA-256 over everything that decides
// the answer. It never contains a credential, only its hash.
type Key [sha256.Size]byte

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// credentialHeaders carry the caller's API key in the APIs llmgate fronts:
// OpenAI (Authorization), Anthropic (x-api-key) and Azure OpenAI (api-key).
var credentialHeaders = []string{"Authorization", "X-Api-Key", "Api-Key"}

// NewKey computes the key of a request whose body was parsed into q.
// Every part but the last is length-prefixed, so no two different requests
// feed the hash the same bytes.
func NewKey(r *http.Request, partition string, q *llmreq.Request, ignore []string) Key {
	h := sha256.New()
	writeField(h, r.Method)
	writeField(h, r.URL.Path)
	writeField(h, r.URL.RawQuery)
	writeField(h, partition)
	// A sha256 digest never fails to write.
	_ = q.WriteCanonical(h, ignore)
	var k Key
	h.Sum(k[:0])
	return k
}

func writeField(h hash.Hash, s string) {
	var n [8]byte
	l := len(s)
	for i := range n {
		n[i] = byte(l >> (8 * i))
	}
	h.Write(n[:])
	h.Write([]byte(s))
}

// credentialPartition is the "key" scope: every credential header the
// caller sent, so a request is only ever answered from entries made with
// the same credentials.
func credentialPartition(r *http.Request) string {
	var p string
	for _, name := range credentialHeaders {
		for _, v := range r.Header.Values(name) {
			p += name + ":" + v + "\n"
		}
	}
	return p
}
