package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a Scanner accepts,
// the bound encoding/json applies.
const MaxDepth = 10000

// Member is what a Scanner read of one top-level member it was asked for.
// When the name appears more than once, the last one counts, as it does
// for encoding/json and the providers' parsers.
type Member struct {
	// Name is the member's name, decoded.
	Name string
	// Found reports that the top-level object has the member.
	Found bool
	// Value is the JSON text of its value as written (inner whitespace
	// and escapes kept), nil when the value was longer than the bound.
	Value []byte
	// TooLong reports that the value was longer than the bound.
	TooLong bool
	// Folded reports that the top-level object also has a member whose
	// name is this one's in another ASCII case ("Model" for "model"):
	// parsers that match names regardless of case, as encoding/json does,
	// may read that one instead.
	Folded bool
}

// state is what the scanner expects next.
type state uint8

const (
	stValue        state = iota // a value: at the start, after ':', after ',' in an array
	stValueOrClose              // after '['
	stKeyOrClose                // after '{'
	stKey                       // after ',' in an object
	stColon                     // after a member name
	stCommaOrClose              // after a value inside an array or object
	stEnd                       // after the top-level value: whitespace only
	stString                    // inside a string
	stEscape                    // after '\' in a string
	stHex                       // inside the four digits of \u
	stNumber                    // inside a number
	stLiteral                   // inside true, false or null
	stBad                       // not JSON
)

// The parts of a number, in order (RFC 8259 section 6).
const (
	numMinus    = iota // after '-'
	numZero            // after a leading 0
	numInt             // in the integer digits
	numDot             // after '.'
	numFrac            // in the fraction digits
	numE               // after 'e'
	numExpSign         // after the exponent's sign
	numExpDigit        // in the exponent digits
)

// Scanner checks a JSON text fed in pieces of any size, in one pass and
// constant memory, and keeps the values of chosen members of the
// top-level object, each up to a bound. It also counts the bytes the
// string values decode to. Member names are compared decoded, so a name
// spelt with escapes is the same name. The zero Scanner captures nothing;
// use New.
type Scanner struct {
	members []Member
	max     int // the bound on a captured value

	st    state
	depth int
	// objects has bit d set when the container at depth d+1 is an object.
	objects [MaxDepth/64 + 1]uint64
	inKey   bool // the string being read is a member name
	topKey  bool // ... of the top-level object
	num     uint8
	lit     string // the literal being read and how much of it is read
	litPos  int
	hex     rune // the \u escape being read and its digits so far
	hexN    int
	high    rune // a high surrogate waiting for its low half; 0 when none
	// name is the decoded top-level member name being read, while it is
	// no longer than the longest name asked for (long is set past that).
	name []byte
	long bool
	// next is the member whose value comes next at depth 1, -1 when none;
	// capturing is the member whose value is being read.
	next, capturing int
	text            int64
	size            int64
}

// New returns a Scanner that keeps the values of the top-level members
// named names, each up to max bytes of JSON text.
func New(bound int, names ...string) *Scanner {
	s := &Scanner{max: bound, next: -1, capturing: -1, members: make([]Member, len(names))}
	longest := 0
	for i, n := range names {
		s.members[i].Name = n
		longest = max(longest, len(n))
	}
	s.name = make([]byte, 0, longest)
	return s
}

// Reset makes s ready to scan another value for the same members, keeping
// its buffers: the Values Members returned before are overwritten.
func (s *Scanner) Reset() {
	members, name := s.members, s.name[:0]
	for i := range members {
		members[i] = Member{Name: members[i].Name, Value: members[i].Value[:0]}
	}
	*s = Scanner{max: s.max, next: -1, capturing: -1, members: members, name: name}
}

// Members returns what was read of the members asked for, in the order of
// their names. It is meaningful once Valid reports true; the slice is the
// Scanner's own.
func (s *Scanner) Members() []Member { return s.members }

// TextBytes is the number of bytes the string values read so far decode
// to, member names left out: a lone surrogate escape counts 3 bytes, the
// length of its generalized UTF-8 form, and bytes that are not UTF-8 count
// one each.
func (s *Scanner) TextBytes() int64 { return s.text }

// Size is the number of bytes fed.
func (s *Scanner) Size() int64 { return s.size }

// Valid reports whether the text fed so far is exactly one JSON value
// (RFC 8259, strings holding bytes that are not UTF-8 allowed, as
// encoding/json allows them), with nothing but whitespace after it.
func (s *Scanner) Valid() bool {
	return s.st == stEnd || s.st == stNumber && s.depth == 0 && numberMayEnd(s.num)
}

// Failed reports whether the text fed so far is already not JSON, so
// that a caller can stop feeding.
func (s *Scanner) Failed() bool { return s.st == stBad }

func numberMayEnd(part uint8) bool {
	return part == numZero || part == numInt || part == numFrac || part == numExpDigit
}

// Write feeds the next piece of the text. It never fails: it returns
// len(p) and nil, so that a Scanner can sit behind an io.Writer; Valid and
// Failed tell the outcome.
func (s *Scanner) Write(p []byte) (int, error) {
	s.size += int64(len(p))
	start := 0 // where the captured part of p begins
	for i := 0; i < len(p) && s.st != stBad; i++ {
		end := -1 // set to the index after a value that ends at i
		switch c := p[i]; s.st {
		case stString:
			if j := IndexSpecial(p, i); j > i {
				s.flushHigh()
				s.plainRun(p[i:j])
				if i = j; i == len(p) {
					break
				}
				c = p[i]
			}
			switch c {
			case '"':
				s.flushHigh()
				if s.inKey {
					s.endName()
					s.st = stColon
				} else {
					s.valueEnd()
					end = i + 1
				}
			case '\\':
				s.st = stEscape
			default:
				s.st = stBad // a control character
			}
		case stEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.flushHigh()
				s.decoded(unescape[c])
				s.st = stString
			case 'u':
				s.st, s.hex, s.hexN = stHex, 0, 0
			default:
				s.st = stBad
			}
		case stHex:
			v := hexValue(c)
			if v < 0 {
				s.st = stBad
				break
			}
			s.hex, s.hexN = s.hex<<4|v, s.hexN+1
			if s.hexN == 4 {
				s.unit(s.hex)
				s.st = stString
			}
		case stNumber:
			if s.num, i = scanNumber(s.num, p, i); i == len(p) {
				break
			}
			if !numberMayEnd(s.num) {
				s.st = stBad
				break
			}
			s.valueEnd()
			end = i
			i-- // the byte after the number: read it again
		case stLiteral:
			if c != s.lit[s.litPos] {
				s.st = stBad
				break
			}
			if s.litPos++; s.litPos == len(s.lit) {
				s.valueEnd()
				end = i + 1
			}
		default:
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				break
			}
			if s.st == stValue && s.next >= 0 {
				s.startCapture()
				start = i
			}
			if s.structural(c) {
				end = i + 1
			}
		}
		if end >= 0 && s.capturing >= 0 && s.depth == 1 {
			s.keep(p[start:end])
			s.capturing = -1
		}
	}
	if s.capturing >= 0 {
		s.keep(p[start:])
	}
	return len(p), nil
}

// structural reads c outside strings, numbers and literals, and reports
// whether it closed an array or object.
func (s *Scanner) structural(c byte) (closed bool) {
	switch s.st {
	case stValue:
		s.value(c)
	case stValueOrClose:
		if c == ']' {
			return s.close(c)
		}
		s.value(c)
	case stKeyOrClose:
		if c == '}' {
			return s.close(c)
		}
		s.key(c)
	case stKey:
		s.key(c)
	case stColon:
		s.st = stBad
		if c == ':' {
			s.st = stValue
		}
	case stCommaOrClose:
		switch {
		case c != ',':
			return s.close(c)
		case s.inObject():
			s.st = stKey
		default:
			s.st = stValue
		}
	default: // stEnd: only whitespace may follow
		s.st = stBad
	}
	return false
}

// value starts the value whose first byte is c.
func (s *Scanner) value(c byte) {
	switch {
	case c == '{' || c == '[':
		if s.depth == MaxDepth {
			s.st = stBad
			return
		}
		d := uint(s.depth) // never negative: unsigned, / and % are shifts
		bit := uint64(1) << (d % 64)
		if c == '{' {
			s.objects[d/64] |= bit
			s.st = stKeyOrClose
		} else {
			s.objects[d/64] &^= bit
			s.st = stValueOrClose
		}
		s.depth++
	case c == '"':
		s.st, s.inKey = stString, false
	case c == '-' || c-'0' <= 9:
		s.st, s.num = stNumber, numberStart(c)
	case c == 't':
		s.st, s.lit, s.litPos = stLiteral, "true", 1
	case c == 'f':
		s.st, s.lit, s.litPos = stLiteral, "false", 1
	case c == 'n':
		s.st, s.lit, s.litPos = stLiteral, "null", 1
	default:
		s.st = stBad
	}
}

// key starts a member name at c.
func (s *Scanner) key(c byte) {
	if c != '"' {
		s.st = stBad
		return
	}
	s.st, s.inKey, s.topKey = stString, true, s.depth == 1
	s.name, s.long = s.name[:0], false
}

// close ends the array or object open at the top of the stack with c.
func (s *Scanner) close(c byte) bool {
	if s.depth == 0 || (c == '}') != s.inObject() || (c != '}' && c != ']') {
		s.st = stBad
		return false
	}
	s.depth--
	s.valueEnd()
	return true
}

func (s *Scanner) inObject() bool {
	d := s.depth - 1
	return d >= 0 && s.objects[uint(d)/64]&(1<<(uint(d)%64)) != 0
}

// valueEnd moves on after a value.
func (s *Scanner) valueEnd() {
	s.st = stCommaOrClose
	if s.depth == 0 {
		s.st = stEnd
	}
}

// NumberEnd returns the index after the JSON number that starts at b[i]
// (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), and false
// when no whole number starts there. It reads as a Scanner does, for
// readers of a whole text.
func NumberEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '-' && b[i]-'0' > 9 {
		return i, false
	}
	part, end := scanNumber(numberStart(b[i]), b, i+1)
	return end, numberMayEnd(part)
}

// numberStart is the part of a number after its first byte c, '-' or a
// digit.
func numberStart(c byte) uint8 {
	switch c {
	case '-':
		return numMinus
	case '0':
		return numZero
	}
	return numInt
}

// scanNumber reads the bytes of a number from p[i] on, the number being
// in part part, and returns the part it reaches and the index of the
// first byte that cannot come next in it (len(p) when there is none). A
// number is read here in one loop rather than a byte a turn of Write's:
// the arrays of floats of an embeddings answer are mostly numbers.
func scanNumber(part uint8, p []byte, i int) (uint8, int) {
	for ; i < len(p); i++ {
		switch c := p[i]; {
		case c-'0' <= 9:
			switch part {
			case numInt, numFrac, numExpDigit:
				for i+1 < len(p) && p[i+1]-'0' <= 9 {
					i++ // runs of digits, the bulk of long numbers
				}
			case numMinus:
				part = numInt
				if c == '0' {
					part = numZero
				}
			case numZero:
				return part, i // no digit follows a leading 0
			case numDot:
				part = numFrac
			case numE, numExpSign:
				part = numExpDigit
			}
		case c == '.' && (part == numZero || part == numInt):
			part = numDot
		case (c == 'e' || c == 'E') && (part == numZero || part == numInt || part == numFrac):
			part = numE
		case (c == '+' || c == '-') && part == numE:
			part = numExpSign
		default:
			return part, i
		}
	}
	return part, len(p)
}

// startCapture begins keeping the value of member s.next.
func (s *Scanner) startCapture() {
	m := &s.members[s.next]
	m.Found, m.TooLong, m.Value = true, false, m.Value[:0]
	s.capturing, s.next = s.next, -1
}

// keep adds b to the value being captured, within the bound.
func (s *Scanner) keep(b []byte) {
	m := &s.members[s.capturing]
	switch {
	case m.TooLong:
	case len(m.Value)+len(b) > s.max:
		m.TooLong, m.Value = true, nil
	default:
		m.Value = append(m.Value, b...)
	}
}

// endName decides, at the end of a top-level member name, whether the
// member's value is to be kept.
func (s *Scanner) endName() {
	if !s.topKey {
		return
	}
	s.next = -1
	if s.long {
		return
	}
	for i := range s.members {
		if s.members[i].Name == string(s.name) {
			s.next = i
			return
		}
	}
	for i := range s.members {
		if EqualFoldASCII(s.members[i].Name, s.name) {
			s.members[i].Folded = true
		}
	}
}

// EqualFoldASCII reports whether name and b are equal under ASCII case
// folding: how Member.Folded compares names.
func EqualFoldASCII(name string, b []byte) bool {
	if len(name) != len(b) {
		return false
	}
	for i := range len(b) {
		if lower(name[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// plainRun reads a run of string bytes that stand for themselves.
func (s *Scanner) plainRun(b []byte) {
	if s.inKey {
		s.nameBytes(b)
		return
	}
	s.text += int64(len(b))
}

// decoded reads one character a string's escape stands for.
func (s *Scanner) decoded(r rune) {
	if s.inKey {
		var b [utf8.UTFMax]byte
		s.nameBytes(utf8.AppendRune(b[:0], r))
		return
	}
	s.text += int64(utf8.RuneLen(r))
}

// unit reads the code unit of a \u escape, pairing surrogates.
func (s *Scanner) unit(u rune) {
	if h := s.high; h != 0 {
		s.high = 0
		if u >= 0xdc00 && u <= 0xdfff {
			s.decoded(utf16.DecodeRune(h, u))
			return
		}
		s.lone()
	}
	switch {
	case u >= 0xd800 && u < 0xdc00:
		s.high = u
	case u >= 0xdc00 && u <= 0xdfff:
		s.lone()
	default:
		s.decoded(u)
	}
}

// flushHigh reads a high surrogate that no low half followed.
func (s *Scanner) flushHigh() {
	if s.high != 0 {
		s.high = 0
		s.lone()
	}
}

// lone reads a lone surrogate: three bytes of text (its generalized UTF-8
// form), U+FFFD in a name (as encoding/json decodes it).
func (s *Scanner) lone() {
	if s.inKey {
		s.decoded(utf8.RuneError)
		return
	}
	s.text += 3
}

// nameBytes adds decoded bytes to a top-level member name.
func (s *Scanner) nameBytes(b []byte) {
	switch {
	case !s.topKey || s.long:
	case len(s.name)+len(b) > cap(s.name):
		s.long = true
	default:
		s.name = append(s.name, b...)
	}
}

// unescape maps the byte after '\' to what it stands for.
var unescape = [256]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hexValue is the value of a hex digit, -1 for another byte.
func hexValue(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}
