package llmreq

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// emitRoot writes the canonical form of the scanned value and, when it is an
// object, the spans of its members, in room when they fit.
func (p *parser) emitRoot(room []member) ([]byte, []member) {
	out := make([]byte, 0, len(p.buf)) // sorting permutes, so the size is known
	if p.nodes[0].kind != kindObject {
		out, _ = p.emit(out, 0)
		return out, nil
	}
	tops := room[:0]
	out = p.emitObject(out, 0, &tops)
	return out, tops
}

// emit appends the canonical form of node i and its subtree to out and
// returns the index of the node after the subtree. Recursion is bounded by
// maxDepth, which scan enforced.
func (p *parser) emit(out []byte, i int) ([]byte, int) {
	n := &p.nodes[i]
	switch {
	case n.kind == kindScalar || n.sorted:
		return append(out, p.buf[n.start:n.end]...), int(n.next)
	case n.kind == kindObject:
		return p.emitObject(out, i, nil), int(n.next)
	}
	out = append(out, '[')
	for j := i + 1; j < int(n.next); {
		if j > i+1 {
			out = append(out, ',')
		}
		out, j = p.emit(out, j)
	}
	return append(out, ']'), int(n.next)
}

// emitObject appends object i with its members sorted by name. When tops is
// not nil it receives the members' spans in out, in its room when they fit.
func (p *parser) emitObject(out []byte, i int, tops *[]member) []byte {
	n := p.nodes[i]
	members := 0
	for j := i + 1; j < int(n.next); j = int(p.nodes[j+1].next) {
		members++
	}
	// Sized exactly: growing by appends would allocate several times the
	// final size for an object of many members.
	base := len(p.idx)
	p.idx = slices.Grow(p.idx, members)
	for j := i + 1; j < int(n.next); j = int(p.nodes[j+1].next) {
		p.idx = append(p.idx, int32(j))
	}
	end := len(p.idx)
	if !n.sorted {
		p.sortMembers(p.idx[base:end])
	}
	if tops != nil {
		*tops = slices.Grow((*tops)[:0], members)
	}
	out = append(out, '{')
	// Nested calls append to p.idx and may move it, but they leave
	// p.idx[base:end] as it is, so it is read afresh on each turn.
	for k := base; k < end; k++ {
		if k > base {
			out = append(out, ',')
		}
		key := &p.nodes[p.idx[k]]
		start := len(out)
		out = append(out, p.buf[key.start:key.end+1]...) // the name and its ':'
		out, _ = p.emit(out, int(p.idx[k])+1)
		if tops != nil {
			*tops = append(*tops, member{start: int32(start), keyEnd: int32(start) + key.end - key.start, end: int32(len(out)), esc: key.esc})
		}
	}
	p.idx = p.idx[:base]
	return append(out, '}')
}

// sortMembers sorts the member name nodes idx by name, as compareKeys
// orders them, and stably: names that compare equal keep their order. Each
// name is decoded once, before the sort, so that no comparison decodes.
func (p *parser) sortMembers(idx []int32) {
	// Both are sized before they are filled: growing by appends would
	// allocate several times the final size. A decoded name is at most
	// three times as long as its canonical text (a byte that is not UTF-8
	// becomes U+FFFD). The radix sort needs as much again for its copies.
	keys := len(idx)
	if keys >= radixMin {
		keys *= 2
	}
	p.keys = slices.Grow(p.keys[:0], keys)
	decoded := 0
	for _, k := range idx {
		if n := &p.nodes[k]; !n.plain {
			decoded += 3 * int(n.end-n.start-2)
		}
	}
	p.dec = slices.Grow(p.dec[:0], decoded)
	for _, k := range idx {
		n := &p.nodes[k]
		if n.plain {
			p.keys = append(p.keys, sortKey{prefix: prefixOf(p.buf[n.start+1 : n.end-1]), node: k, at: n.start + 1, size: n.end - n.start - 2})
			continue
		}
		start := len(p.dec)
		p.dec = appendDecoded(p.dec, p.buf[n.start+1:n.end-1], true)
		p.keys = append(p.keys, sortKey{prefix: prefixOf(p.dec[start:]), node: k, at: ^int32(start), size: int32(len(p.dec) - start)})
	}
	if len(p.keys) < radixMin {
		slices.SortFunc(p.keys, p.compareSortKeys)
	} else {
		p.radixSort()
	}
	for i, k := range p.keys {
		idx[i] = k.node
	}
}

// compareSortKeys orders two names being sorted; node indices break ties,
// which makes pdqsort, which makes fewer comparisons than a stable sort,
// stable.
func (p *parser) compareSortKeys(a, b sortKey) int {
	if a.prefix != b.prefix {
		return cmp.Compare(a.prefix, b.prefix)
	}
	// Names of at most eight bytes with equal prefixes are equal, or the
	// shorter one is the longer one cut short: their lengths order them,
	// without reading the names.
	if a.size > 8 || b.size > 8 {
		if c := bytes.Compare(p.sortName(a), p.sortName(b)); c != 0 {
			return c
		}
	} else if a.size != b.size {
		return cmp.Compare(a.size, b.size)
	}
	return cmp.Compare(a.node, b.node)
}

// radixMin is the fewest members an object sorts by radix: pdqsort makes
// some n log n comparisons, several per member even in an object that
// repeats two names, while the radix sort's cost is flat per member but
// includes clearing its tables.
const radixMin = 256

// radixSort sorts p.keys, which have room for as many again, in linear
// time and in the order compareSortKeys gives. An LSD radix sort, stable
// by nature, orders them by prefix and then by length up to nine; that is
// their final order except among names longer than eight bytes sharing a
// prefix, which a comparison sort then orders among themselves.
func (p *parser) radixSort() {
	n := len(p.keys)
	src, dst := p.keys, p.keys[n:2*n]
	var counts [9][256]int32 // the digits: a capped length, then the prefix's bytes from the last
	for _, k := range src {
		counts[0][min(k.size, 9)]++
		for d := 1; d < 9; d++ {
			counts[d][byte(k.prefix>>(8*(d-1)))]++
		}
	}
	for d := range counts {
		c := &counts[d]
		if c[radixDigit(src[0], d)] == int32(n) {
			continue // every key has this digit: the pass would change nothing
		}
		var sum int32
		for i, m := range c {
			c[i], sum = sum, sum+m
		}
		for _, k := range src {
			b := radixDigit(k, d)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	copy(p.keys, src)
	for i := 0; i < n; {
		j := i + 1
		for j < n && p.keys[i].size > 8 && p.keys[j].size > 8 && p.keys[j].prefix == p.keys[i].prefix {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(p.keys[i:j], p.compareSortKeys)
		}
		i = j
	}
}

// radixDigit is digit d of k as radixSort sorts them.
func radixDigit(k sortKey, d int) byte {
	if d == 0 {
		return byte(min(k.size, 9))
	}
	return byte(k.prefix >> (8 * (d - 1)))
}

// sortKey is a member name being sorted: its first bytes, its node, and
// where the text it sorts by is: at in parser.buf, its canonical text, or
// for a name whose canonical text is not that, ^at in parser.dec, its
// decoded form. It holds the span itself so that comparisons read no node,
// and has four fields so that two of them pass in registers.
type sortKey struct {
	prefix         uint64
	node, at, size int32
}

// prefixOf is the first eight bytes of name, big-endian and padded with
// zeros: prefixes compare as the names do, or equal when the names share
// them (a name padded with zeros and one with real zero bytes then differ
// in length, and the full comparison tells them apart).
func prefixOf(name []byte) uint64 {
	var b [8]byte
	copy(b[:], name)
	return binary.BigEndian.Uint64(b[:])
}

// sortName is the text a sortKey sorts by.
func (p *parser) sortName(k sortKey) []byte {
	if k.at < 0 {
		return p.dec[^k.at : ^k.at+k.size]
	}
	return p.buf[k.at : k.at+k.size]
}

// compareKeys orders the member names at node indices a and b by their
// bytes as a decoder that replaces what is not UTF-8 with U+FFFD reads them
// (encoding/json does). Names that read alike there compare equal, so the
// stable sort keeps them in their input order: written differently ("\xf5"
// and "\x87", or two lone surrogates), they are one name to such a decoder,
// whose last member wins, and reordering them would give two bodies that
// mean different things one key.
func (p *parser) compareKeys(a, b int) int {
	na, nb := &p.nodes[a], &p.nodes[b]
	ka, kb := p.buf[na.start+1:na.end-1], p.buf[nb.start+1:nb.end-1]
	if na.plain && nb.plain {
		return bytes.Compare(ka, kb) // canonical text is the decoded text
	}
	// Scan compares each name with the one before it, which the previous
	// call decoded into p.kb: decoding it again would double the work on
	// objects of many such names.
	if a == p.kbNode {
		p.ka, p.kb = p.kb, p.ka
	} else {
		p.ka = appendDecoded(p.ka[:0], ka, true)
	}
	p.kb = appendDecoded(p.kb[:0], kb, true)
	p.kbNode = b
	return bytes.Compare(p.ka, p.kb)
}
