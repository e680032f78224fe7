package redact

import "bytes"

// jsonState follows, left to right, whether a position of a text is inside
// a string of a JSON line: a line starting with '{', '[' or '"', or a line
// that is a lone number or literal.
type jsonState struct {
	pos      int
	json     bool
	inString bool
	line     int // start of the line of pos
	started  bool

	// The scalar place replaced last: later matches inside it are covered.
	scalarFrom, scalarTo int
}

func (js *jsonState) startLine(src []byte, i int) {
	js.line, js.inString = i, false
	j := skipLineSpace(src, i)
	switch {
	case j == len(src):
		js.json = false
	case src[j] == '{' || src[j] == '[' || src[j] == '"':
		js.json = true
	default:
		e := runEnd(src, j, classScalar)
		if e == j {
			js.json = false
			break
		}
		e = skipLineSpace(src, e)
		js.json = e == len(src) || src[e] == '\n'
	}
}

// skipLineSpace skips JSON's whitespace but the newline, which ends a
// line: blanks and carriage returns (a line may end in "\r\n", or hold a
// lone "\r" anywhere).
func skipLineSpace(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r') {
		i++
	}
	return i
}

// at returns whether the line of index i is JSON, and whether i is inside one
// of its strings. Indexes are asked for in increasing order, so a text costs
// one pass; an earlier index restarts from its line.
func (js *jsonState) at(src []byte, i int) (json, inString bool) {
	if !js.started || i < js.pos {
		js.started, js.pos = true, bytes.LastIndexByte(src[:i], '\n')+1
		js.startLine(src, js.pos)
	}
	for ; js.pos < i; js.pos++ {
		switch c := src[js.pos]; {
		case c == '\n':
			js.startLine(src, js.pos+1)
		case !js.json:
		case js.inString && c == '\\':
			js.pos++
		case c == '"':
			js.inString = !js.inString
		}
	}
	return js.json, js.inString
}
