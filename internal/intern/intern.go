// Package intern gives the short strings that requests and answers repeat,
// model names above all, one kept copy each: read from a request's bytes,
// a name seen before costs no allocation.
package intern

import (
	"sync"
	"sync/atomic"
)

// maxLen is the longest string kept: model names are tens of bytes, and a
// caller's megabyte "model" must not stay in memory.
const maxLen = 128

// maxCount bounds the strings kept. A caller who names a new model in
// every request fills the table; the names after that are allocated each
// time, as they were before there was a table.
const maxCount = 1024

// known holds the kept strings, each its own key. It is never changed
// once stored, so that a lookup takes no lock; an addition stores a copy.
var known atomic.Pointer[map[string]string]

// adding serialises additions.
var adding sync.Mutex

// Bytes returns b as a string, the kept copy when there is one.
func Bytes(b []byte) string {
	full := false
	if m := known.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok { // no allocation: a lookup by b's bytes
			return s
		}
		// Once the table is full, a new name takes no lock: a caller who
		// names a new model each time must not queue every request on it.
		full = len(*m) >= maxCount
	}
	s := string(b)
	if len(s) <= maxLen && !full {
		add(s)
	}
	return s
}

// add keeps s, unless the table is full or has it.
func add(s string) {
	adding.Lock()
	defer adding.Unlock()
	var old map[string]string
	if m := known.Load(); m != nil {
		old = *m
	}
	if _, ok := old[s]; ok || len(old) >= maxCount {
		return
	}
	m := make(map[string]string, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[s] = s
	known.Store(&m)
}
