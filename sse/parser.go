package sse

import (
	"bytes"
	"errors"
)

// DefaultMaxEvent is the largest event a Parser with MaxEvent 0 keeps.
const DefaultMaxEvent = 1 << 20

// ErrEventTooLarge is reported by Parser.Err when an event larger than
// Parser.MaxEvent was skipped.
var ErrEventTooLarge = errors.New("sse: event too large")

// bom is the UTF-8 byte order mark a stream may begin with; it is not part
// of any event.
const bom = "\xEF\xBB\xBF"

// Event is one dispatched event. Its slices point into the chunk that was
// fed or into the Parser's own buffers: they are valid until the next call
// of Next, Feed, End or Reset, and must not be modified.
type Event struct {
	// Name is the value of the event's last "event" field; empty when it
	// has none, which the standard reads as the type "message".
	Name []byte
	// Data is the values of the event's "data" fields joined by "\n".
	Data []byte
	// Raw is the event exactly as received: its first line (a field or a
	// comment) through the blank line that ends it, terminators included.
	// Blank lines between events and blocks that dispatch nothing (no
	// "data" field) belong to no event.
	Raw []byte
	// End is the offset in the stream just past the event: its Raw, when
	// not skipped for its size, is the stream's bytes from End-len(Raw).
	End int64
}

// Parser splits a server-sent event stream into events. Feed it the stream
// in chunks of any size and call Next until it reports no more events; call
// End when the stream is over. Lines may end in CRLF, LF or CR; a leading
// byte order mark is skipped; comments, "id" and "retry" fields and unknown
// fields are accepted and not reported. An event still incomplete when the
// stream ends is not dispatched, as the standard says.
//
// The zero Parser is ready to use. A Parser is not safe for concurrent use.
type Parser struct {
	// MaxEvent bounds the bytes of one event (its Raw length): a larger
	// event is skipped, not buffered, and Err reports ErrEventTooLarge.
	// Zero means DefaultMaxEvent.
	MaxEvent int

	in    []byte // the part of the fed chunk not scanned yet
	carry []byte // the start of an event that began in an earlier chunk
	data  []byte // joined data of an event with several data lines
	size  int    // bytes of the current event seen so far
	ev    Event

	started   bool // the byte order mark check is over
	bomSeen   int  // bytes of the byte order mark matched so far
	inEvent   bool // a line of the current event has begun
	lineStart bool // the next byte begins a line (within an event)
	cr        bool // the last byte was a CR ending a line: an LF next belongs to it
	crEnd     bool // that CR ended the event's blank line; the event waits to see an LF
	ended     bool // End was called: no more input
	skipping  bool // the current event is over MaxEvent and is being skipped
	err       error

	pos     int64 // the stream offset of in[0]
	evStart int64 // the stream offset where the current event began
}

// Feed gives the parser the next chunk of the stream. The parser reads the
// chunk in place until Next reports no more events, so the caller must not
// modify it before then. Bytes left from an earlier Feed that Next has not
// scanned are dropped, so call Next until it returns false first.
func (p *Parser) Feed(chunk []byte) { p.in = chunk }

// End tells the parser the stream is over, so an event whose blank line
// was a CR at the very end of the stream is dispatched by the next Next.
func (p *Parser) End() { p.ended = true }

// Settled returns the stream offset before which every byte fed belongs
// to an event Next has returned, or to no event: the start of the event
// under way, else the end of what was fed and scanned. A writer that must
// hold events back whole (to drop some) can pass the bytes before it on.
func (p *Parser) Settled() int64 {
	switch {
	case p.inEvent || p.crEnd:
		return p.evStart
	case !p.started:
		// What looks like a byte order mark may begin an event.
		return p.pos - int64(p.bomSeen)
	}
	return p.pos
}

// Err returns ErrEventTooLarge once an event was skipped for its size.
func (p *Parser) Err() error { return p.err }

// Reset makes the parser ready for a new stream, keeping its buffers.
func (p *Parser) Reset() {
	*p = Parser{MaxEvent: p.MaxEvent, carry: p.carry[:0], data: p.data[:0]}
}

// Next returns the next event the input fed so far completes, or false when
// it needs more input.
func (p *Parser) Next() (*Event, bool) {
	for {
		raw, ok := p.scan()
		if !ok {
			return nil, false
		}
		if p.fields(raw) {
			p.ev.End = p.pos
			return &p.ev, true
		}
	}
}

// scan finds the end of the next event and returns its raw bytes.
func (p *Parser) scan() ([]byte, bool) {
	if !p.started && !p.skipBOM() {
		return nil, false
	}
	if p.crEnd {
		// The event's blank line ended with a CR: an LF right after it is
		// part of the event; anything else starts what follows.
		n := 0
		switch {
		case len(p.in) > 0 && p.in[0] == '\n':
			n = 1
		case len(p.in) == 0 && !p.ended:
			return nil, false
		}
		p.crEnd, p.cr = false, false
		return p.complete(n)
	}
	if !p.inEvent && !p.skipBlank() {
		return nil, false
	}
	in := p.in
	i := 0
	nl := -2 // index of the next LF in in, -1 when there is none; -2: not searched yet
	for i < len(in) {
		if p.cr {
			p.cr = false
			if in[i] == '\n' {
				i++
				continue
			}
		}
		if p.lineStart {
			if c := in[i]; c == '\r' || c == '\n' {
				i++ // the blank line that ends the event
				if c == '\n' {
					return p.complete(i)
				}
				if i < len(in) || p.ended {
					if i < len(in) && in[i] == '\n' {
						i++
					}
					return p.complete(i)
				}
				p.crEnd = true
				break
			}
			p.lineStart = false
		}
		if nl != -1 && nl < i {
			if nl = bytes.IndexByte(in[i:], '\n'); nl >= 0 {
				nl += i
			}
		}
		end := len(in)
		if nl >= 0 {
			end = nl
		}
		j := i + bytes.IndexByte(in[i:end], '\r')
		if j < i {
			if nl < 0 {
				i = len(in)
				break
			}
			j = nl
		}
		p.cr = in[j] == '\r'
		p.lineStart = true
		i = j + 1
	}
	p.hold(in)
	p.in = nil
	p.pos += int64(len(in))
	return nil, false
}

// skipBOM drops a byte order mark at the start of the stream; it reports
// whether the check is over.
func (p *Parser) skipBOM() bool {
	for len(p.in) > 0 && p.bomSeen < len(bom) {
		if p.in[0] != bom[p.bomSeen] {
			// Not a mark after all: the bytes matched so far begin the
			// first line.
			if p.bomSeen > 0 {
				p.inEvent, p.evStart = true, p.pos-int64(p.bomSeen)
				p.hold([]byte(bom[:p.bomSeen]))
			}
			p.started = true
			return true
		}
		p.bomSeen++
		p.in = p.in[1:]
		p.pos++
	}
	if p.bomSeen == len(bom) {
		p.started = true
		return true
	}
	if p.ended && p.bomSeen > 0 {
		// The stream ended inside what looked like a mark: an incomplete
		// event, never dispatched.
		p.started = true
	}
	return p.started
}

// skipBlank drops blank lines before an event; it reports whether an event
// begins in the input.
func (p *Parser) skipBlank() bool {
	for len(p.in) > 0 {
		switch c := p.in[0]; {
		case c == '\n':
			p.cr = false // a blank line, or the LF of a CRLF
		case c == '\r':
			p.cr = true
		default:
			p.cr = false
			p.inEvent, p.evStart = true, p.pos
			return true
		}
		p.in = p.in[1:]
		p.pos++
	}
	return false
}

// hold keeps b, the start of an event not complete yet, unless the event
// is already too large.
func (p *Parser) hold(b []byte) {
	p.size += len(b)
	if p.skipping || p.size <= p.maxEvent() {
		if !p.skipping {
			p.carry = append(p.carry, b...)
		}
		return
	}
	p.skipping = true
	p.carry = p.carry[:0]
}

// complete ends the current event with the first n bytes of the input and
// returns its raw bytes (nil when it was skipped for its size).
func (p *Parser) complete(n int) ([]byte, bool) {
	raw := p.in[:n]
	p.in = p.in[n:]
	p.pos += int64(n)
	p.size += n
	if len(p.carry) > 0 {
		p.carry = append(p.carry, raw...)
		raw = p.carry
	}
	if p.skipping || p.size > p.maxEvent() {
		raw = nil
		p.err = ErrEventTooLarge
	}
	p.carry = p.carry[:0]
	p.size = 0
	p.inEvent, p.lineStart, p.skipping = false, false, false
	return raw, true
}

func (p *Parser) maxEvent() int {
	if p.MaxEvent > 0 {
		return p.MaxEvent
	}
	return DefaultMaxEvent
}

// fields reads the lines of a complete event into p.ev; it reports whether
// the event is dispatched (it has a data field).
func (p *Parser) fields(raw []byte) bool {
	p.ev = Event{Raw: raw}
	lines := 0
	for len(raw) > 0 {
		j := eol(raw)
		line := raw[:j]
		if raw[j] == '\r' && j+1 < len(raw) && raw[j+1] == '\n' {
			j++
		}
		raw = raw[j+1:]
		if len(line) == 0 {
			break
		}
		if line[0] == ':' {
			continue // a comment
		}
		name, value := line, line[len(line):]
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			name, value = line[:c], line[c+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "event":
			p.ev.Name = value
		case "data":
			lines++
			switch lines {
			case 1:
				p.ev.Data = value
			case 2:
				p.data = append(append(append(p.data[:0], p.ev.Data...), '\n'), value...)
			default:
				p.data = append(append(p.data, '\n'), value...)
			}
		}
	}
	if lines > 1 {
		p.ev.Data = p.data
	}
	if lines == 0 {
		p.ev = Event{}
		return false
	}
	return true
}

// eol returns the index of the first CR or LF in b; b holds one.
func eol(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		n = len(b)
	}
	if r := bytes.IndexByte(b[:n], '\r'); r >= 0 {
		return r
	}
	return n
}
