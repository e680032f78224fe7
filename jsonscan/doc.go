// Package jsonscan checks a JSON text fed in pieces, as it passes, and
// keeps the values of a few chosen members of its top-level object: the
// "model" of a request body hundreds of megabytes long, or the "usage" at
// the end of a large answer, in one pass, in time linear in the text and
// in memory bounded by the values kept.
//
// A Scanner tracks whether it is inside a string, an escape, a number or
// a literal across the pieces, so a piece may end anywhere, and text
// inside a string is never taken for a member. It accepts exactly what
// encoding/json's Valid accepts.
//
// The package does not depend on Caddy.
package jsonscan
