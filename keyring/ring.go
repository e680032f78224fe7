package keyring

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// DefaultFrom are the headers callers put their key in unless a Ring is
// told otherwise: OpenAI's (Authorization: Bearer), Anthropic's
// (x-api-key) and Azure's (api-key).
var DefaultFrom = []string{"Authorization", "X-Api-Key", "Api-Key"}

// Identity is what a key proves: who calls.
type Identity struct {
	// KeyID is a short fingerprint of the key, which does not reveal it:
	// safe for logs and metrics labels.
	KeyID string
	Team  string
	Tier  string
	// Models the key may use (globs); empty: every model.
	Models []string
	// Expires is when the key stops being good; zero: never.
	Expires time.Time
}

// Allows reports whether the identity may use model. A key limited to
// some models may not use one that cannot be read ("").
func (id *Identity) Allows(model string) bool {
	if len(id.Models) == 0 {
		return true
	}
	for _, p := range id.Models {
		if model != "" && llmreq.MatchModel(p, model) {
			return true
		}
	}
	return false
}

// Ring is a set of gateway keys. It is safe for concurrent use.
type Ring struct {
	byHash map[[sha256.Size]byte]*Identity
	from   []string
}

// NewRing returns a Ring of keys, read from the headers from (canonical
// names; DefaultFrom when empty). It refuses a malformed hash or expiry,
// a key without a team, and a hash given twice.
func NewRing(keys []Key, from []string) (*Ring, error) {
	if len(from) == 0 {
		from = DefaultFrom
	}
	k := &Ring{byHash: make(map[[sha256.Size]byte]*Identity, len(keys)), from: make([]string, len(from))}
	for i, h := range from {
		k.from[i] = http.CanonicalHeaderKey(h)
	}
	for i, key := range keys {
		h, err := parseHash(key.SHA256)
		if err != nil {
			return nil, fmt.Errorf("key %d: %v", i+1, err)
		}
		if key.Team == "" {
			return nil, fmt.Errorf("key %d (%s): no team", i+1, keyID(h))
		}
		exp, err := parseExpires(key.Expires)
		if err != nil {
			return nil, fmt.Errorf("key %d (%s): %v", i+1, keyID(h), err)
		}
		if _, dup := k.byHash[h]; dup {
			return nil, fmt.Errorf("key %d (%s): the same key is given twice", i+1, keyID(h))
		}
		k.byHash[h] = &Identity{KeyID: keyID(h), Team: key.Team, Tier: key.Tier, Models: key.Models, Expires: exp}
	}
	return k, nil
}

// keyID is the fingerprint of a key of hash h: the start of its hash,
// which the keys file shows anyway.
func keyID(h [sha256.Size]byte) string { return hex.EncodeToString(h[:6]) }

// The errors of Check. Each is the reason a request is refused.
var (
	ErrNoKey       = errors.New("no gateway key")
	ErrUnknownKey  = errors.New("unknown gateway key")
	ErrExpired     = errors.New("expired gateway key")
	ErrSeveralKeys = errors.New("several different keys; send one")
)

// Admit returns the identity of the one key r presents in the Ring's
// headers, as of now, and removes that key from r: once proven, it goes
// no further. A key is a Bearer token of Authorization (any other
// Authorization is a key no Ring knows), or the whole value of another
// header; the same key in several of them is one. The key is removed
// from the Ring's headers and from wherever else r carries it (another
// credential header, a key or api_key query parameter), so that the
// upstream never sees a gateway key. A refused request is left as it is.
//
// The key is never compared: its SHA-256 is looked up. How long comparing
// digests takes tells a caller nothing of a stored key, as a caller
// cannot choose the digest it makes: the lookup needs no constant-time
// comparison to be safe.
func (k *Ring) Admit(r *http.Request, now time.Time) (*Identity, error) {
	key, err := k.presented(r)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(key))
	id := k.byHash[h]
	if id == nil {
		return nil, ErrUnknownKey
	}
	if !id.Expires.IsZero() && !now.Before(id.Expires) {
		return nil, ErrExpired
	}
	k.strip(r, key)
	return id, nil
}

// presented returns the one key r presents in the Ring's headers.
func (k *Ring) presented(r *http.Request) (string, error) {
	var key string
	for _, name := range k.from {
		for _, v := range r.Header[name] {
			v = strings.TrimSpace(v)
			if name == "Authorization" && v != "" {
				if token, ok := llmreq.BearerToken(v); ok {
					v = token
				} else {
					// Not a bearer token: presented, but never a key.
					v = "\x00" + v
				}
			}
			switch {
			case v == "" || v == key:
			case key == "":
				key = v
			default:
				return "", ErrSeveralKeys
			}
		}
	}
	if key == "" {
		return "", ErrNoKey
	}
	return key, nil
}

// strip removes key from r: the Ring's headers, and the key wherever
// else r carries it.
func (k *Ring) strip(r *http.Request, key string) {
	for _, name := range k.from {
		r.Header.Del(name)
	}
	for _, name := range llmreq.CredentialHeaders {
		for _, v := range r.Header[name] {
			if token, ok := llmreq.BearerToken(v); strings.TrimSpace(v) == key || ok && token == key {
				r.Header.Del(name)
				break
			}
		}
	}
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		changed := false
		for _, name := range []string{"key", "api_key"} {
			if slices.Contains(q[name], key) {
				q.Del(name)
				changed = true
			}
		}
		if changed {
			r.URL.RawQuery = q.Encode()
		}
	}
}
