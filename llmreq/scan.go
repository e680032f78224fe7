package llmreq

import (
	"bytes"
	"fmt"
	"sync"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of arrays and objects Parse accepts, the
// same bound encoding/json applies.
const maxDepth = 10000

// Parsing runs in two passes. scan checks the input and writes the canonical
// form of every value into parser.buf in input order, recording each value as
// a node; emitRoot then writes the nodes out again with object members sorted.
// Subtrees that need no reordering are copied in one piece, so the second pass
// costs little more than one copy of the canonical bytes, and no input, however
// deeply nested, costs more than a sort per object.

type kind uint8

const (
	kindScalar kind = iota // string, number, true, false or null
	kindKey                // member name; its ':' follows it in parser.buf
	kindArray
	kindObject
)

// node is one value or member name recorded by scan.
type node struct {
	start, end int32 // canonical text in parser.buf (quotes and brackets included)
	next       int32 // index of the first node after this one's subtree
	kind       kind  //
	sorted     bool  // arrays and objects: no object in the subtree needs reordering
	esc        bool  // member names: the canonical name contains an escape sequence
	plain      bool  // member names: no escape and valid UTF-8, so bytes compare as decoded
}

// frame is an array or object scan has opened and not yet closed.
type frame struct {
	node    int // its node index
	lastKey int // node index of its latest member name, -1 before the first
}

// parser holds the scratch memory of one Parse call; it is pooled.
type parser struct {
	in       []byte
	buf      []byte
	nodes    []node
	stack    []frame
	idx      []int32   // node indices of the object members being emitted
	ka, kb   []byte    // decoded names being compared
	kbNode   int       // the node whose name kb holds; 0, never a name, for none
	maxNodes int       // the most nodes p.in can hold; 0 until growNodes counts them
	keys     []sortKey // member names being sorted
	dec      []byte    // their decoded forms
	text     int64     // decoded bytes of string values
	// imageType is set once a member named type has a string value that
	// holds the word image: a body may have image parts only then.
	imageType bool
}

var parsers = sync.Pool{New: func() any { return new(parser) }}

// Parsers whose scratch memory grew beyond these bounds are not kept for
// reuse, so that one huge body does not pin its buffers forever.
const (
	maxPooledBytes = 4 << 20
	maxPooledNodes = 1 << 18
)

// putParser empties p and returns it to the pool.
func putParser(p *parser) {
	p.in = nil
	p.buf = p.buf[:0]
	p.nodes = p.nodes[:0]
	p.stack = p.stack[:0]
	p.idx = p.idx[:0]
	p.kbNode, p.maxNodes = 0, 0
	p.keys, p.dec = p.keys[:0], p.dec[:0]
	p.text, p.imageType = 0, false
	if cap(p.buf) > maxPooledBytes || cap(p.nodes) > maxPooledNodes {
		return
	}
	parsers.Put(p)
}

// fail returns a syntax error at byte offset off.
func (p *parser) fail(off int, reason string) error {
	if off >= len(p.in) {
		return fmt.Errorf("%w: unexpected end of input at offset %d", ErrNotJSON, len(p.in))
	}
	return fmt.Errorf("%w: %s at offset %d", ErrNotJSON, reason, off)
}

func (p *parser) unexpected(off int) error {
	if off >= len(p.in) {
		return p.fail(off, "")
	}
	return p.fail(off, fmt.Sprintf("unexpected %q", p.in[off]))
}

func skipSpace(in []byte, i int) int {
	for i < len(in) && (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t') {
		i++
	}
	return i
}

// scan checks p.in and records its canonical pieces in p.buf and p.nodes.
// It is iterative: nesting depth costs heap (p.stack), never goroutine stack.
func (p *parser) scan() error {
	in := p.in
	i := skipSpace(in, 0)
	for {
		// A value starts at i.
		if i >= len(in) {
			return p.fail(i, "")
		}
		var err error
		switch c := in[i]; c {
		case '{', '[':
			if len(p.stack) == maxDepth {
				return p.fail(i, "nesting deeper than 10000")
			}
			k := kindArray
			if c == '{' {
				k = kindObject
			}
			p.stack = append(p.stack, frame{node: len(p.nodes), lastKey: -1})
			p.addNode(node{start: int32(len(p.buf)), kind: k, sorted: true})
			p.buf = append(p.buf, c)
			i = skipSpace(in, i+1)
			if i < len(in) && in[i] == c+2 { // '}' and ']' follow '{' and '[' by two
				break // empty: the loop below closes it
			}
			if c == '{' {
				if i, err = p.key(i); err != nil {
					return err
				}
			}
			continue
		case '"':
			start := len(p.buf)
			var n int
			if i, n, _, err = p.str(i); err != nil {
				return err
			}
			p.text += int64(n)
			p.noteImageType(start)
			p.scalar(start)
		case 't':
			i, err = p.literal(i, "true")
		case 'f':
			i, err = p.literal(i, "false")
		case 'n':
			i, err = p.literal(i, "null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return p.unexpected(i)
			}
			start := len(p.buf)
			if i, err = p.number(i); err != nil {
				return err
			}
			p.scalar(start)
		}
		if err != nil {
			return err
		}
		// A value ends before i: close the containers that end here, until a
		// comma announces the next value.
		for {
			i = skipSpace(in, i)
			if len(p.stack) == 0 {
				if i != len(in) {
					return p.fail(i, "data after the top-level value")
				}
				return nil
			}
			if i >= len(in) {
				return p.fail(i, "")
			}
			n := &p.nodes[p.stack[len(p.stack)-1].node]
			c := in[i]
			if c == ',' {
				p.buf = append(p.buf, ',')
				i = skipSpace(in, i+1)
				if n.kind == kindObject {
					if i, err = p.key(i); err != nil {
						return err
					}
				}
				break
			}
			if (n.kind == kindObject && c != '}') || (n.kind == kindArray && c != ']') {
				return p.unexpected(i)
			}
			p.buf = append(p.buf, c)
			i++
			n.end, n.next = int32(len(p.buf)), int32(len(p.nodes))
			p.stack = p.stack[:len(p.stack)-1]
			if !n.sorted && len(p.stack) > 0 {
				p.nodes[p.stack[len(p.stack)-1].node].sorted = false
			}
		}
	}
}

// noteImageType sets p.imageType when the string value whose canonical
// text starts at p.buf[start] is that of a member named type and holds
// the word image. Canonical names and strings spell letters as they are,
// never escaped.
func (p *parser) noteImageType(start int) {
	if p.imageType || len(p.stack) == 0 {
		return
	}
	last := p.stack[len(p.stack)-1].lastKey
	if last < 0 {
		return // a value of an array
	}
	k := p.nodes[last]
	if string(p.buf[k.start+1:k.end-1]) == "type" && bytes.Contains(p.buf[start+1:len(p.buf)-1], imageWord) {
		p.imageType = true
	}
}

// scalar records the scalar whose canonical text starts at p.buf[start].
func (p *parser) scalar(start int) {
	p.addNode(node{start: int32(start), end: int32(len(p.buf)), next: int32(len(p.nodes) + 1)})
}

// addNode records n. The node list doubles when full: append grows large
// slices by a quarter, which copies each node about four times over, and
// bodies made of tiny values have close to a node a byte. It doubles
// exactly: asked for twice its length, append would round up by quarters
// to as much as two and a half times.
func (p *parser) addNode(n node) {
	if len(p.nodes) == cap(p.nodes) {
		p.growNodes()
	}
	p.nodes = append(p.nodes, n)
}

// growNodes doubles the node list, but once it is large, not beyond the
// most nodes the input can hold: a doubling is then up to twice what the
// body needs, and the list is its largest piece of scratch memory. Every
// node but the first follows its own '[', '{', ',' or ':', so there are at
// most one more nodes than those bytes; counting them costs a fast pass
// over the input, paid once and only by bodies of many values.
func (p *parser) growNodes() {
	c := max(2*len(p.nodes), 64)
	if c > 1<<16 {
		if p.maxNodes == 0 {
			p.maxNodes = 1
			for _, b := range []byte(",:[{") {
				p.maxNodes += bytes.Count(p.in, []byte{b})
			}
		}
		c = min(c, p.maxNodes)
	}
	p.nodes = append(make([]node, 0, c), p.nodes...)
}

func (p *parser) literal(i int, lit string) (int, error) {
	if len(p.in)-i < len(lit) || string(p.in[i:i+len(lit)]) != lit {
		return 0, p.fail(i, "invalid literal")
	}
	start := len(p.buf)
	p.buf = append(p.buf, lit...)
	p.scalar(start)
	return i + len(lit), nil
}

// key scans a member name and its ':' and returns the index of the value.
func (p *parser) key(i int) (int, error) {
	if i >= len(p.in) || p.in[i] != '"' {
		return 0, p.unexpected(i)
	}
	k, start := len(p.nodes), len(p.buf)
	i, _, esc, err := p.str(i)
	if err != nil {
		return 0, err
	}
	name := p.buf[start+1 : len(p.buf)-1]
	p.addNode(node{start: int32(start), end: int32(len(p.buf)), next: int32(k + 1), kind: kindKey, esc: esc, plain: !esc && utf8.Valid(name)})
	f := &p.stack[len(p.stack)-1]
	if f.lastKey >= 0 && p.compareKeys(f.lastKey, k) > 0 {
		p.nodes[f.node].sorted = false
	}
	f.lastKey = k
	i = skipSpace(p.in, i)
	if i >= len(p.in) || p.in[i] != ':' {
		return 0, p.unexpected(i)
	}
	p.buf = append(p.buf, ':')
	return skipSpace(p.in, i+1), nil
}
