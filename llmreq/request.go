package llmreq

import (
	"errors"
	"io"
	"math"
)

// ErrTooLarge is returned when a request body is larger than the limit a
// caller gave.
var ErrTooLarge = errors.New("llmreq: request body too large")

// MaxParse is the largest body Parse takes: the offsets of its canonical
// form, which writes a number such as 1e20 out in full, stay within 32 bits.
const MaxParse = 64 << 20

// ErrNotJSON is wrapped by the error Parse returns for a body that is not
// exactly one valid JSON value; the wrapping error names the reason and the
// byte offset.
var ErrNotJSON = errors.New("llmreq: request body is not JSON")

// Request is what llmgate knows of one LLM API request body.
type Request struct {
	// Body is the body exactly as received. It is shared, not copied: do
	// not modify it.
	Body []byte

	// Canonical is the canonical JSON form of Body: no insignificant
	// whitespace, object members sorted by name at every depth (stably, so
	// duplicate names keep their order), strings with every escape decoded
	// and re-encoded one fixed way, numbers normalised exactly. Bodies that
	// mean the same have equal Canonical bytes.
	Canonical []byte

	// Fields are the members llmgate routes and limits on.
	Fields

	// tops lists the members of a top-level object in canonical order,
	// in topsRoom when they fit: most requests have a few members, and
	// need no allocation for them.
	tops     []member
	topsRoom [8]member
}

// member is one top-level member inside Request.Canonical.
// Its offsets are 32 bits, as node's are: a top-level object may have a
// member every few bytes.
type member struct {
	start  int32 // index of the opening quote of the name
	keyEnd int32 // index just after the closing quote of the name
	end    int32 // index just after the value
	esc    bool  // the canonical name contains an escape sequence
}

// name returns the canonical encoding of a member's name, without quotes.
func (q *Request) name(m member) []byte { return q.Canonical[m.start+1 : m.keyEnd-1] }

// value returns the canonical text of a member's value.
func (q *Request) value(m member) []byte { return q.Canonical[m.keyEnd+1 : m.end] }

// Parse canonicalizes body and extracts the fields llmgate routes, limits and
// caches on. It returns an error wrapping ErrNotJSON for anything that is not
// exactly one valid JSON value: strict RFC 8259 syntax (no comments, trailing
// commas, leading zeros, NaN, unescaped control characters), nothing but
// whitespace after the value, and nesting at most 10000 deep. Like
// encoding/json, it accepts strings holding bytes that are not UTF-8 and
// lone UTF-16 surrogate escapes.
//
// The returned Request keeps body as its Body. A body over MaxParse bytes
// is not parsed: Parse returns ErrTooLarge.
func Parse(body []byte) (*Request, error) { return parse(body, nil) }

// parse is Parse; the Request it returns is into when into is set.
func parse(body []byte, into *Request) (*Request, error) {
	if len(body) > MaxParse {
		return nil, ErrTooLarge
	}
	p := parsers.Get().(*parser)
	p.in = body
	if want := len(body) + len(body)/4 + 64; cap(p.buf) < want {
		p.buf = make([]byte, 0, want)
	}
	var q *Request
	err := p.scan()
	if err == nil {
		if q = into; q == nil {
			q = new(Request)
		}
		*q = Request{Body: body, Fields: Fields{TextBytes: p.text}}
		q.Canonical, q.tops = p.emitRoot(q.topsRoom[:])
		q.extract()
		if p.imageType {
			q.setImages(walkImages(body))
		}
	}
	putParser(p)
	return q, err
}

// extract fills Fields from the top-level members. Members come in
// canonical order, where repeated names keep their order, so the last
// assignment wins as it does in upstream parsers.
func (q *Request) extract() {
	var t topFields
	for _, m := range q.tops {
		if !m.esc { // none of the names Fields reads needs an escape
			t.set(q.name(m), q.value(m))
		}
	}
	q.Fields = t.fields(q.TextBytes)
}

// tokenCount returns the value of a canonical number that is an integer >= 0,
// saturating at math.MaxInt64, and 0 for anything else.
func tokenCount(v []byte) int64 {
	if v[0] < '0' || v[0] > '9' {
		return 0 // negative, or not a number
	}
	var n int64
	for i, c := range v {
		if c == 'e' {
			// Canonical integers up to 20 trailing zeros are written out,
			// so a positive exponent means at least 10^21.
			if v[i+1] == '-' {
				return 0
			}
			return math.MaxInt64
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return math.MaxInt64
		}
		n = n*10 + d
	}
	return n
}

// WriteCanonical writes Canonical to w with the top-level members named in
// ignore left out (ignore may be nil; names are compared decoded). The output
// is itself valid canonical JSON. It makes few Write calls, one when nothing
// is left out, so that feeding a hash is cheap.
func (q *Request) WriteCanonical(w io.Writer, ignore []string) error {
	c := q.Canonical
	if len(ignore) == 0 || len(q.tops) == 0 {
		_, err := w.Write(c)
		return err
	}
	opened, closed := false, false
	for i := 0; i < len(q.tops); {
		if q.ignored(q.tops[i], ignore) {
			i++
			continue
		}
		j := i // the run of kept members is tops[i..j]
		for j+1 < len(q.tops) && !q.ignored(q.tops[j+1], ignore) {
			j++
		}
		start, end := int(q.tops[i].start), int(q.tops[j].end)
		switch {
		case i == 0:
			start = 0 // take the '{' along
		case opened:
			start-- // take the ',' before member i along
		default:
			if _, err := w.Write(c[:1]); err != nil { // '{'
				return err
			}
		}
		if j == len(q.tops)-1 {
			end = len(c) // take the '}' along
			closed = true
		}
		if _, err := w.Write(c[start:end]); err != nil {
			return err
		}
		opened = true
		i = j + 1
	}
	if !opened {
		if _, err := w.Write(c[:1]); err != nil { // '{'
			return err
		}
	}
	if !closed {
		if _, err := w.Write(c[len(c)-1:]); err != nil { // '}'
			return err
		}
	}
	return nil
}

// ignored reports whether member m's decoded name is one of names.
func (q *Request) ignored(m member, names []string) bool {
	name := q.name(m)
	if m.esc {
		var scratch [64]byte
		name = appendDecoded(scratch[:0], name, false)
	}
	for _, s := range names {
		if string(name) == s {
			return true
		}
	}
	return false
}
