// Package keyring checks gateway keys: the keys a gateway gives its
// callers, so that the provider's keys never leave it. A Ring holds the
// SHA-256 of each key and the identity it proves (team, tier, the models
// it may use, when it expires); a leaked keys file leaks no key.
//
// Check finds the one key a request presents, hashes it and looks the
// hash up: one hash and one map lookup, whatever the number of keys. The
// package has no dependency on Caddy.
package keyring
