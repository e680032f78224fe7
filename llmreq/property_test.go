package llmreq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"
)

// value is a random JSON value whose members keep their order, so that the
// same value can be written with its members in any order.
type value struct {
	kind   int // 0 null, 1 bool, 2 number, 3 string, 4 array, 5 object
	b      bool
	neg    bool   // numbers: sign
	digits string // numbers: significant digits, first one not zero
	exp    int    // numbers: value = digits × 10^exp
	s      string // strings
	elems  []value
	names  []string // objects: distinct member names
}

// runes are drawn for strings and names: plain ASCII, characters JSON must
// escape, ones that sort near them, multi-byte UTF-8 and astral characters.
var runes = []rune("abcAZ09 _-\"\\/#[]{}\x00\x01\x1f\x7féè中\u2028\ufffd😀\U0010ffff")

func randString(r *rand.Rand, n int) string {
	var sb strings.Builder
	for range r.IntN(n + 1) {
		sb.WriteRune(runes[r.IntN(len(runes))])
	}
	return sb.String()
}

func randValue(r *rand.Rand, depth int) value {
	k := r.IntN(6)
	if depth <= 0 {
		k = r.IntN(4)
	}
	v := value{kind: k}
	switch k {
	case 1:
		v.b = r.IntN(2) == 0
	case 2:
		v.neg = r.IntN(2) == 0
		v.digits = fmt.Sprint(1 + r.IntN(9))
		for range r.IntN(25) {
			v.digits += fmt.Sprint(r.IntN(10))
		}
		v.exp = r.IntN(61) - 30
		if r.IntN(8) == 0 {
			v.digits = "0"
		}
	case 3:
		v.s = randString(r, 12)
	case 4:
		for range r.IntN(5) {
			v.elems = append(v.elems, randValue(r, depth-1))
		}
	case 5:
		seen := map[string]bool{}
		for range r.IntN(6) {
			name := randString(r, 4)
			if seen[name] {
				continue
			}
			seen[name] = true
			v.names = append(v.names, name)
			v.elems = append(v.elems, randValue(r, depth-1))
		}
	}
	return v
}

// spell writes v as JSON, choosing at random among the spellings that mean
// the same: member order, whitespace, string escapes, number forms.
func spell(b *bytes.Buffer, v value, r *rand.Rand) {
	space := func() {
		for range r.IntN(3) {
			b.WriteByte(" \t\r\n"[r.IntN(4)])
		}
	}
	space()
	switch v.kind {
	case 0:
		b.WriteString("null")
	case 1:
		fmt.Fprint(b, v.b)
	case 2:
		spellNumber(b, v, r)
	case 3:
		spellString(b, v.s, r)
	case 4:
		b.WriteByte('[')
		space()
		for i, e := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			spell(b, e, r)
		}
		b.WriteByte(']')
	case 5:
		b.WriteByte('{')
		space()
		for i, j := range r.Perm(len(v.elems)) {
			if i > 0 {
				b.WriteByte(',')
			}
			space()
			spellString(b, v.names[j], r)
			space()
			b.WriteByte(':')
			spell(b, v.elems[j], r)
		}
		b.WriteByte('}')
	}
	space()
}

// spellNumber writes digits × 10^exp with trailing zeros added, the decimal
// point anywhere, and the exponent adjusted to match.
func spellNumber(b *bytes.Buffer, v value, r *rand.Rand) {
	if v.neg {
		b.WriteByte('-')
	}
	m := v.digits + strings.Repeat("0", r.IntN(3))
	exp := v.exp - (len(m) - len(v.digits))
	point := r.IntN(len(m) + 1)
	intPart, frac := m[:point], m[point:]
	if intPart == "" || v.digits == "0" {
		intPart, frac = "0", strings.Repeat("0", r.IntN(3))+m
	}
	exp += len(frac)
	b.WriteString(intPart)
	if frac != "" {
		b.WriteString("." + frac)
	}
	if exp != 0 || r.IntN(2) == 0 {
		b.WriteByte("eE"[r.IntN(2)])
		if exp >= 0 && r.IntN(2) == 0 {
			b.WriteByte('+')
		}
		fmt.Fprint(b, exp)
	}
}

func spellString(b *bytes.Buffer, s string, r *rand.Rand) {
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case r.IntN(3) == 0:
			for _, u := range utf16.Encode([]rune{c}) {
				fmt.Fprintf(b, []string{`\u%04x`, `\u%04X`}[r.IntN(2)], u)
			}
		case c == '"' || c == '\\':
			b.WriteString(`\` + string(c))
		case c == '/' && r.IntN(2) == 0:
			b.WriteString(`\/`)
		case c == '\n' || c == '\t':
			b.WriteString(map[rune]string{'\n': `\n`, '\t': `\t`}[c])
		case c < 0x20:
			fmt.Fprintf(b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
}

// TestCanonicalProperty checks that every spelling of a random value has one
// canonical form, that it is valid JSON and a fixed point, and that it equals
// the canonical form of what encoding/json writes for the same value (maps
// with sorted keys, its own escaping, indented or not).
func TestCanonicalProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		v := randValue(r, 4)
		var first []byte
		for range 5 {
			var b bytes.Buffer
			spell(&b, v, r)
			q, err := Parse(b.Bytes())
			if err != nil {
				t.Fatalf("Parse(%q): %v", b.Bytes(), err)
			}
			if first == nil {
				first = q.Canonical
				continue
			}
			if !bytes.Equal(q.Canonical, first) {
				t.Fatalf("Parse(%q).Canonical = %q, want %q", b.Bytes(), q.Canonical, first)
			}
		}
		if !json.Valid(first) {
			t.Fatalf("canonical %q is not valid JSON", first)
		}
		if again := mustParse(t, string(first)).Canonical; !bytes.Equal(again, first) {
			t.Fatalf("canonical %q is not a fixed point: %q", first, again)
		}

		var decoded any
		d := json.NewDecoder(bytes.NewReader(first))
		d.UseNumber()
		if err := d.Decode(&decoded); err != nil {
			t.Fatal(err)
		}
		for _, indent := range []string{"", "  "} {
			out, err := json.MarshalIndent(decoded, "", indent)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustParse(t, string(out)).Canonical; !bytes.Equal(got, first) {
				t.Fatalf("encoding/json wrote %q, canonical %q, want %q", out, got, first)
			}
		}
	}
}
