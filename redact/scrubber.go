package redact

import (
	"bytes"
	"slices"
	"unsafe"
)

// Scrubber replaces secrets in log text. It is safe for concurrent use. The
// zero value (and a nil *Scrubber) applies the built-in rules only.
type Scrubber struct {
	patterns []pattern
}

var defaultScrubber = &Scrubber{}

// Default returns the Scrubber with the built-in rules only.
func Default() *Scrubber { return defaultScrubber }

// New returns a Scrubber with the built-in rules and the extra patterns, in
// Go RE2 syntax (e.g. `hf_[A-Za-z0-9]{30,}`). A match is replaced whole,
// keeping its literal prefix ("hf_") visible; when the pattern has a
// capturing group, only the text of the first group is replaced, which is
// how to keep a name visible: `password=([^&\s]+)`. A pattern that does not
// compile, or that matches the empty string, is an error naming it.
//
// The replaced text never spans a quote, a control byte or a backslash
// escape: a match that does is narrowed to its longest part without one. On
// a JSON line, a match outside any string (in a number such as a card
// number) replaces the whole number with a quoted marker, keeping the line
// JSON.
//
// A pattern with a literal that every match contains (such as "hf_") runs
// only on lines containing it; one without runs on every line. Go's regexp
// runs in linear time, but its cost per byte grows with the compiled
// pattern: a counted repeat such as `[^"]{40}` is forty steps wide.
func New(extra ...string) (*Scrubber, error) {
	s := &Scrubber{}
	for _, expr := range extra {
		p, err := compilePattern(expr)
		if err != nil {
			return nil, err
		}
		s.patterns = append(s.patterns, p)
	}
	return s, nil
}

// Bytes appends src to dst with every secret replaced and reports whether it
// replaced any. When src holds no secret it returns src itself, leaves dst
// alone and allocates nothing. dst must not overlap src.
func (s *Scrubber) Bytes(dst, src []byte) (out []byte, changed bool) {
	if hasKeyEscape(src) {
		return s.bytesEscaped(dst, src)
	}
	sc := newScanner(src)
	sp, found := sc.next()
	if s == nil || len(s.patterns) == 0 {
		if !found {
			return src, false
		}
		w := newWriter(dst, src)
		for ; found; sp, found = sc.next() {
			w.put(sp)
		}
		return w.finish(), true
	}
	if !found && !s.mayMatch(src) {
		return src, false
	}
	var spans []span
	for ; found; sp, found = sc.next() {
		spans = append(spans, sp)
	}
	builtin := len(spans)
	spans = s.appendPatternSpans(spans, src)
	if len(spans) == 0 {
		return src, false
	}
	if len(spans) > builtin {
		spans = merge(spans)
	}
	return write(dst, src, spans), true
}

// bytesEscaped is Bytes for a src that holds escapes of key bytes: it
// finds the secrets of src and of its view with those escapes decoded.
// The view of a line of usual length stays on the stack; it is copied
// for the extra patterns only when they may match it, as the regexp
// package keeps what it is given.
func (s *Scrubber) bytesEscaped(dst, src []byte) ([]byte, bool) {
	var buf [4096]byte
	text := decodeKeyEscapes(buf[:0], src)
	spans := appendBuiltinSpans(nil, text)
	if s != nil && s.mayMatch(text) {
		spans = s.appendPatternSpans(spans, bytes.Clone(text))
	}
	if len(spans) > 0 {
		spans = mapSpans(spans, text, src)
	}
	spans = s.appendPatternSpans(appendBuiltinSpans(spans, src), src)
	if len(spans) == 0 {
		return src, false
	}
	return write(dst, src, merge(spans)), true
}

// appendBuiltinSpans appends the secrets the built-in rules find in src.
func appendBuiltinSpans(spans []span, src []byte) []span {
	sc := newScanner(src)
	for sp, found := sc.next(); found; sp, found = sc.next() {
		spans = append(spans, sp)
	}
	return spans
}

// appendPatternSpans appends the secrets the extra patterns find in src.
func (s *Scrubber) appendPatternSpans(spans []span, src []byte) []span {
	if s == nil {
		return spans
	}
	for i := range s.patterns {
		if p := &s.patterns[i]; p.mayMatch(src) {
			spans = p.appendSpans(spans, src)
		}
	}
	return spans
}

// write appends src to dst with the spans, in increasing order, replaced.
func write(dst, src []byte, spans []span) []byte {
	w := newWriter(dst, src)
	for _, sp := range spans {
		w.put(sp)
	}
	return w.finish()
}

// mayMatch reports whether any extra pattern could match src.
func (s *Scrubber) mayMatch(src []byte) bool {
	for i := range s.patterns {
		if s.patterns[i].mayMatch(src) {
			return true
		}
	}
	return false
}

// merge sorts spans and joins those that overlap, so that every byte of a
// secret found by two rules is replaced once.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	out := spans[:1]
	for _, sp := range spans[1:] {
		last := &out[len(out)-1]
		if sp.start >= last.end {
			out = append(out, sp)
			continue
		}
		if sp.start == last.start {
			last.keep = max(last.keep, sp.keep) // a rule that knows the prefix
		} else {
			last.keep = min(last.keep, sp.start-last.start) // the second secret starts inside it
		}
		switch {
		case sp.start == last.start && (sp.end > last.end || sp.end == last.end && sp.digested):
			// sp's secret is the whole; the decoded one, when both are
			last.digest, last.digested = sp.digest, sp.digested
		case sp.end > last.end:
			last.digested = false // neither one is the whole secret
		}
		last.end = max(last.end, sp.end)
		if sp.quote {
			last.quote, last.keep = true, 0
		}
	}
	return out
}

// String returns str with every secret replaced; str itself, without
// allocating, when it holds none.
func (s *Scrubber) String(str string) string {
	// Bytes only reads src, so the string's bytes can be lent to it.
	out, changed := s.Bytes(nil, unsafe.Slice(unsafe.StringData(str), len(str)))
	if !changed {
		return str
	}
	return unsafe.String(unsafe.SliceData(out), len(out)) // out is fresh and never written again
}
