package redact

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// pattern is an extra secret shape given by the operator as an RE2 regexp.
type pattern struct {
	re *regexp.Regexp
	// lit is text every match contains (lower-case when fold); a line
	// without it is not searched. Empty when the pattern has none.
	lit  []byte
	fold bool
	// prefix is the literal text every match starts with; it stays visible
	// ("hf_[REDACTED:…]") when the whole match is replaced.
	prefix int
	group  bool // the first capturing group is the secret, not the whole match
}

func compilePattern(expr string) (pattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return pattern{}, fmt.Errorf("redact: pattern %q: %w", expr, err)
	}
	if re.MatchString("") {
		return pattern{}, fmt.Errorf("redact: pattern %q matches the empty string", expr)
	}
	p := pattern{re: re, group: re.NumSubexp() > 0}
	prefix, _ := re.LiteralPrefix()
	p.prefix = len(prefix)
	if tree, err := syntax.Parse(expr, syntax.Perl); err == nil {
		lit, fold := requiredLiteral(tree.Simplify())
		p.lit, p.fold = []byte(lit), fold
	}
	return p, nil
}

// requiredLiteral returns the longest literal text that every match of re
// contains, and whether it matches regardless of ASCII case.
func requiredLiteral(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		lit := string(re.Rune)
		if re.Flags&syntax.FoldCase == 0 {
			return lit, false
		}
		for _, r := range re.Rune {
			if r >= 0x80 {
				return "", false
			}
		}
		return strings.ToLower(lit), true
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		var best string
		bestFold := false
		for _, sub := range re.Sub {
			lit, fold := requiredLiteral(sub)
			if len(lit) > len(best) || len(lit) == len(best) && bestFold && !fold {
				best, bestFold = lit, fold
			}
		}
		return best, bestFold
	}
	return "", false
}

// mayMatch reports whether src contains the pattern's required literal.
func (p *pattern) mayMatch(src []byte) bool {
	switch {
	case len(p.lit) == 0:
		return true
	case !p.fold:
		return bytes.Contains(src, p.lit)
	}
	for i := 0; i+len(p.lit) <= len(src); i++ {
		if hasFold(src, i, p.lit) {
			return true
		}
	}
	return false
}

// appendSpans appends the secrets the pattern finds in src.
func (p *pattern) appendSpans(spans []span, src []byte) []span {
	var js jsonState
	run := backslashRun{from: 1} // from > to: nothing measured yet
	for _, m := range p.re.FindAllSubmatchIndex(src, -1) {
		s, e := m[0], m[1]
		if p.group {
			if m[2] < 0 {
				continue
			}
			s, e = m[2], m[3]
		}
		s, e = longestPlain(src, s, e, &run)
		if s == e {
			continue
		}
		sp := span{start: s, end: e}
		if !p.group && s == m[0] && e-s > p.prefix {
			sp.keep = p.prefix
		}
		if sp, ok := js.place(src, sp); ok {
			spans = append(spans, sp)
		}
	}
	return spans
}

// longestPlain narrows src[s:e] to its longest part free of quotes, control
// bytes and backslash escapes, so that a replacement never breaks a string
// or an escape sequence. A match that spans `"key":"value"` is narrowed to
// the longer of key and value; a capturing group says exactly what is secret.
func longestPlain(src []byte, s, e int, run *backslashRun) (int, int) {
	bs, be := s, s
	start := run.escapeEnd(src, s)
	for i := start; i < e; {
		n := 0
		switch c := src[i]; {
		case c == '"' || c < ' ' || c == 0x7f:
			n = 1
		case c == '\\':
			n = escapeLen(src, i)
		}
		if n == 0 {
			i++
			continue
		}
		if i-start > be-bs {
			bs, be = start, i
		}
		i += n
		start = i
	}
	if e-start > be-bs {
		bs, be = start, e
	}
	return bs, be
}

// escapeLen returns the length of the escape sequence at the backslash src[i]:
// 6 for \uXXXX, else 2 (bounded by the end of src).
func escapeLen(src []byte, i int) int {
	n := 2
	if i+1 < len(src) && src[i+1] == 'u' {
		n = 6
	}
	return min(n, len(src)-i)
}

// escapeEnd returns i, or the end of the escape sequence that i falls inside.
// The nearest backslash at most 5 bytes back starts an escape when it is the
// last of an odd run of backslashes. The last run measured is kept: matches
// inside one long run of backslashes would otherwise each count it again.
func (r *backslashRun) escapeEnd(src []byte, i int) int {
	for p := i - 1; p >= 0 && p >= i-5; p-- {
		if src[p] != '\\' {
			continue
		}
		if p < r.from || p > r.to {
			r.from, r.to = p, p
			for r.from > 0 && src[r.from-1] == '\\' {
				r.from--
			}
			for r.to+1 < len(src) && src[r.to+1] == '\\' {
				r.to++
			}
		}
		if (p-r.from)%2 == 0 { // odd count up to p: p starts an escape
			return max(i, p+escapeLen(src, p))
		}
		return i
	}
	return i
}

// backslashRun is a run of backslashes src[from:to+1] met by escapeEnd.
type backslashRun struct{ from, to int }

// place returns sp as it can be replaced: unchanged inside a string or on a
// line that is not JSON; outside any string of a JSON line it can only be in
// a number or literal, so the whole scalar is replaced by a quoted marker.
func (js *jsonState) place(src []byte, sp span) (span, bool) {
	if json, inString := js.at(src, sp.start); !json || inString {
		return sp, true
	}
	s := sp.start
	for s < sp.end && !is(src[s], classScalar) {
		s++
	}
	if s == sp.end || s < js.scalarTo && s >= js.scalarFrom {
		return span{}, false
	}
	for s > js.line && is(src[s-1], classScalar) {
		s--
	}
	js.scalarFrom, js.scalarTo = s, runEnd(src, s, classScalar)
	return span{start: s, end: js.scalarTo, quote: true}, true
}
