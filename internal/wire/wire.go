// Package wire is the byte form of a stored answer's strings, times and
// headers, in which both cache stores hold an entry (cache.AppendEntry).
package wire

import (
	"encoding/binary"
	"slices"
	"time"
	"unsafe"
)

// AppendString appends s: its length as a uvarint, then its bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// StringLen is the length of s appended by AppendString.
func StringLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

// AppendTime appends t: its Unix seconds as a varint, then its nanoseconds
// as a uvarint.
func AppendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// MaxTimeLen is the most bytes AppendTime appends: a varint of 64 bits,
// and nanoseconds below 2^30 as a uvarint.
const MaxTimeLen = binary.MaxVarintLen64 + 5

// AppendHeader appends a header whose values of names[i] are values[i]:
// the number of values as a uvarint, then each name and value as
// AppendString does, one pair a value, the values of a name together.
func AppendHeader(b []byte, names []string, values [][]string) []byte {
	n := 0
	for _, vs := range values {
		n += len(vs)
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i, vs := range values {
		for _, v := range vs {
			b = AppendString(AppendString(b, names[i]), v)
		}
	}
	return b
}

// HeaderLen is the length AppendHeader appends.
func HeaderLen(names []string, values [][]string) int {
	n, count := 0, 0
	for i, vs := range values {
		for _, v := range vs {
			n += StringLen(names[i]) + StringLen(v)
		}
		count += len(vs)
	}
	return n + uvarintLen(uint64(count))
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// Reader reads what the Append functions wrote, front to back; past the
// first error it reads zero values and sets Bad.
type Reader struct {
	// B is what is left to read.
	B []byte
	// Bad is set once a read found B cut short or corrupt.
	Bad bool
	// Share makes String return strings that share B's memory rather than
	// copies: only for a B that nobody writes to again.
	Share bool
}

// Uvarint reads a uvarint.
func (r *Reader) Uvarint() uint64 { return number(r, binary.Uvarint) }

// Varint reads a varint.
func (r *Reader) Varint() int64 { return number(r, binary.Varint) }

// number reads one number off the front of r with read (binary.Uvarint or
// binary.Varint, which share their way of saying a number is cut short).
func number[T uint64 | int64](r *Reader, read func([]byte) (T, int)) T {
	v, n := read(r.B)
	if n <= 0 {
		r.Bad = true
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Bytes reads the next n bytes, sharing B's memory.
func (r *Reader) Bytes(n int) []byte {
	if r.Bad || n < 0 || n > len(r.B) {
		r.Bad = true
		return nil
	}
	v := r.B[:n]
	r.B = r.B[n:]
	return v
}

// String reads a string AppendString wrote.
func (r *Reader) String() string {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.Bad = true
		return ""
	}
	b := r.Bytes(int(n))
	if r.Share && len(b) > 0 {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

// Time reads a time AppendTime wrote.
func (r *Reader) Time() time.Time {
	sec, nsec := r.Varint(), r.Uvarint()
	if nsec >= uint64(time.Second) {
		r.Bad = true
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec))
}

// Header reads a header AppendHeader wrote: the values of names[i] into
// values[i] (which must be nil), all in one new array, their capacity cut
// so that an append copies. A name not among names is skipped: a form
// written with more names still reads.
func (r *Reader) Header(names []string, values [][]string) {
	// Each value takes at least two bytes: a count beyond that is
	// corrupt, and must not size an allocation.
	n := r.Uvarint()
	if n > uint64(len(r.B)/2) {
		r.Bad = true
		return
	}
	if n == 0 {
		return
	}
	all := make([]string, 0, n)
	last := -1
	for range n {
		k, v := r.String(), r.String()
		i := slices.Index(names, k)
		if i < 0 {
			continue
		}
		if i != last && values[i] != nil {
			// AppendHeader writes the values of a name together.
			r.Bad = true
			return
		}
		all = append(all, v)
		values[i] = all[len(all)-len(values[i])-1 : len(all) : len(all)]
		last = i
	}
}
