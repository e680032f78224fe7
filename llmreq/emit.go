package llmreq

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// emitRoot writes the canonical form of the scanned value and, when it is an
// object, the spans of its members.
func (p *parser) emitRoot() ([]byte, []member) {
	out := make([]byte, 0, len(p.buf)) // sorting permutes, so the size is known
	if p.nodes[0].kind != kindObject {
		out, _ = p.emit(out, 0)
		return out, nil
	}
	var tops []member
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
// not nil it receives the members' spans in out.
func (p *parser) emitObject(out []byte, i int, tops *[]member) []byte {
	n := p.nodes[i]
	base := len(p.idx)
	for j := i + 1; j < int(n.next); j = int(p.nodes[j+1].next) {
		p.idx = append(p.idx, j)
	}
	end := len(p.idx)
	if !n.sorted {
		p.sortMembers(p.idx[base:end])
	}
	if tops != nil {
		*tops = make([]member, 0, end-base)
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
		out, _ = p.emit(out, p.idx[k]+1)
		if tops != nil {
			*tops = append(*tops, member{start: start, keyEnd: start + int(key.end-key.start), end: len(out), esc: key.esc})
		}
	}
	p.idx = p.idx[:base]
	return append(out, '}')
}

// sortMembers sorts the member name nodes idx by name, as compareKeys
// orders them. Each name is decoded once, before the sort, so that no
// comparison decodes; node indices break ties, which makes the sort stable
// (pdqsort makes fewer comparisons than a stable sort).
func (p *parser) sortMembers(idx []int) {
	p.keys, p.dec = p.keys[:0], p.dec[:0]
	for _, k := range idx {
		n := &p.nodes[k]
		name := p.buf[n.start+1 : n.end-1]
		if n.plain {
			p.keys = append(p.keys, sortKey{prefix: prefixOf(name), node: k, start: -1})
			continue
		}
		start := len(p.dec)
		p.dec = appendDecoded(p.dec, name, true)
		p.keys = append(p.keys, sortKey{prefix: prefixOf(p.dec[start:]), node: k, start: start, end: len(p.dec)})
	}
	slices.SortFunc(p.keys, func(a, b sortKey) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		if c := bytes.Compare(p.sortName(a), p.sortName(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
	for i, k := range p.keys {
		idx[i] = k.node
	}
}

// sortKey is a member name being sorted: its first bytes, its node, and
// where its decoded form is in parser.dec (start is -1 when the canonical
// text is that form).
type sortKey struct {
	prefix           uint64
	node, start, end int
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
	if k.start < 0 {
		n := &p.nodes[k.node]
		return p.buf[n.start+1 : n.end-1]
	}
	return p.dec[k.start:k.end]
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
	p.ka = appendDecoded(p.ka[:0], ka, true)
	p.kb = appendDecoded(p.kb[:0], kb, true)
	return bytes.Compare(p.ka, p.kb)
}
