package usage

import "github.com/llmgate/caddy-llmgate/jsonscan"

// token is the kind of one lexical element of a JSON text.
type token uint8

const (
	tokBad    token = iota // not JSON, or the text ended early
	tokEnd                 // the text ended after its value
	tokOpen                // '{'
	tokList                // '['
	tokClose               // '}' or ']'
	tokKey                 // a member name, with its ':'
	tokString              // a string that is a value
	tokAtom                // a number, true, false or null
)

// What a scanner accepts next.
const (
	wantValue        = iota // a value: first, after ':', after ',' in a list
	wantValueOrClose        // after '['
	wantKeyOrClose          // after '{'
	wantKey                 // after ',' in an object
	wantCommaOrClose        // after a value in a container
	wantEnd                 // after the text's value: only whitespace
)

// maxDepth bounds nesting, so that the scanner's stack is a fixed array.
// Answers nest a handful of levels; deeper texts are refused.
const maxDepth = 512

// scanner splits a JSON text into tokens in place and checks its grammar
// (RFC 8259) as it goes, as encoding/json.Valid does: a text it reads to
// tokEnd is valid JSON. It copies nothing and allocates nothing.
type scanner struct {
	b []byte
	i int
	// text is the current string's contents (between the quotes, escapes
	// left as they are) or the current atom.
	text  []byte
	want  int
	depth int
	// objects has bit d set when the container at depth d+1 is an object.
	objects [maxDepth / 64]uint64
}

// next returns the next token, tokBad for anything the grammar does not
// allow there.
func (s *scanner) next() token {
	s.space()
	if s.i == len(s.b) {
		if s.want == wantEnd {
			return tokEnd
		}
		return tokBad
	}
	c := s.b[s.i]
	switch s.want {
	case wantEnd:
		return tokBad
	case wantCommaOrClose:
		if c != ',' {
			return s.close(c)
		}
		s.i++
		s.space()
		if s.i == len(s.b) {
			return tokBad
		}
		c = s.b[s.i]
		if s.inObject() {
			return s.key(c)
		}
	case wantKeyOrClose:
		if c == '}' {
			return s.close(c)
		}
		return s.key(c)
	case wantValueOrClose:
		if c == ']' {
			return s.close(c)
		}
	}
	return s.value(c)
}

// value reads a value starting with c.
func (s *scanner) value(c byte) token {
	switch {
	case c == '{' || c == '[':
		if s.depth == maxDepth {
			return tokBad
		}
		word, bit := s.depth/64, uint64(1)<<(s.depth%64)
		s.objects[word] &^= bit
		s.want = wantValueOrClose
		if c == '{' {
			s.objects[word] |= bit
			s.want = wantKeyOrClose
		}
		s.depth++
		s.i++
		if c == '{' {
			return tokOpen
		}
		return tokList
	case c == '"':
		if !s.str() {
			return tokBad
		}
		s.valueDone()
		return tokString
	}
	start := s.i
	var ok bool
	switch c {
	case 't':
		ok = s.literal("true")
	case 'f':
		ok = s.literal("false")
	case 'n':
		ok = s.literal("null")
	default:
		s.i, ok = jsonscan.NumberEnd(s.b, s.i)
	}
	if !ok {
		return tokBad
	}
	s.text = s.b[start:s.i]
	s.valueDone()
	return tokAtom
}

// key reads a member name starting with c and its ':'.
func (s *scanner) key(c byte) token {
	if c != '"' || !s.str() {
		return tokBad
	}
	s.space()
	if s.i == len(s.b) || s.b[s.i] != ':' {
		return tokBad
	}
	s.i++
	s.want = wantValue
	return tokKey
}

// close reads c as the end of the current container.
func (s *scanner) close(c byte) token {
	if s.depth == 0 || c != "]}"[b2i(s.inObject())] {
		return tokBad
	}
	s.depth--
	s.i++
	s.valueDone()
	return tokClose
}

// valueDone moves on past a complete value.
func (s *scanner) valueDone() {
	s.want = wantCommaOrClose
	if s.depth == 0 {
		s.want = wantEnd
	}
}

func (s *scanner) inObject() bool {
	d := s.depth - 1
	return s.objects[d/64]&(1<<(d%64)) != 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str reads the string that starts at s.i into s.text.
func (s *scanner) str() bool {
	start := s.i + 1
	j := start
	for {
		if j = jsonscan.IndexSpecial(s.b, j); j == len(s.b) {
			return false
		}
		switch s.b[j] {
		case '"':
			s.text, s.i = s.b[start:j], j+1
			return true
		case '\\':
			if j+1 == len(s.b) {
				return false
			}
			switch s.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s.b) || !isHex(s.b[j+2]) || !isHex(s.b[j+3]) || !isHex(s.b[j+4]) || !isHex(s.b[j+5]) {
					return false
				}
				j += 6
			default:
				return false
			}
		default:
			return false // a control character
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// decodedLen is the length in bytes of a JSON string's contents once its
// escapes are decoded, counting a \u escape as the up to three bytes of
// its UTF-8 form.
func decodedLen(raw []byte) int64 {
	n := int64(len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] == 'u' {
			n -= 3 // six bytes of escape, at most three of text
			i += 5
			continue
		}
		n-- // two bytes of escape, one of text
		i++
	}
	return max(n, 0)
}
