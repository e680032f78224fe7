package keyring

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Key is one gateway key, known by the SHA-256 of its text: an entry of a
// keys file ({"keys":[…]}).
type Key struct {
	// SHA256 is the hex SHA-256 of the key (Hash).
	SHA256 string `json:"sha256"`
	// Team is who the key belongs to; required.
	Team string `json:"team"`
	// Models the key may use, as globs ('*' any run, '?' one character,
	// case ignored); empty: every model.
	Models []string `json:"models,omitempty"`
	// Tier is a free label, such as a plan, for limits and logs.
	Tier string `json:"tier,omitempty"`
	// Expires is the day (2027-01-01, the key is good through the day
	// before) or the time (RFC 3339) the key stops being good; empty:
	// never.
	Expires string `json:"expires,omitempty"`
}

// File is the shape of a keys file.
type File struct {
	Keys []Key `json:"keys"`
}

// ReadFile reads a keys file.
func ReadFile(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return f.Keys, nil
}

// Hash returns the hex SHA-256 of key, as a keys file holds it.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// keyPrefix starts the keys New makes, so that they are told from
// providers' keys and caught by llmgate's redaction (sk-…).
const keyPrefix = "sk-llmgate-"

// New returns a new random key: 32 random bytes, in hex, after keyPrefix.
func New() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on the platforms Go supports
	return keyPrefix + hex.EncodeToString(b[:])
}

// parseHash reads a hex SHA-256.
func parseHash(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != sha256.Size {
		return h, fmt.Errorf("sha256 %q: want 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// parseExpires reads Key.Expires; the zero time is never.
func parseExpires(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expires %q: want a day (2027-01-01) or an RFC 3339 time", s)
	}
	return t, nil
}
