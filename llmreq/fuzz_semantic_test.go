package llmreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCanonicalSemantic checks the property the cache key rests on: the
// same meaning gives the same canonical bytes, a different meaning gives
// different ones. The input is decoded by encoding/json, then written again
// in other spellings (member order, whitespace, string escapes, number
// forms; see spell) which must all have one canonical form, equal to the
// input's own when decoding lost nothing. One leaf of the value is then
// changed, and that value's canonical form must differ.
func FuzzCanonicalSemantic(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.5}`,
		`{"b":[1,1.0,10e-1,-0,1E2],"a":{"y":null,"x":true},"c":"\u00e9\n\/"}`,
		`{"max_tokens":100,"stream":true,"model":"m","n":12345678901234567890123}`,
		`[{"a":1,"a":2},{"":""}]`,
		`"\ud83d\ude00 \ud800"`,
		`1e999999`,
	} {
		f.Add([]byte(s), uint64(len(s)))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		if !json.Valid(in) {
			return // FuzzParse covers what is not JSON
		}
		d := json.NewDecoder(bytes.NewReader(in))
		d.UseNumber()
		var lossy bool
		v, ok := decodeValue(t, d, &lossy)
		if !ok {
			return // a number whose exponent does not fit an int
		}
		r := rand.New(rand.NewPCG(seed, seed>>32|1))
		canon := func(v value) []byte {
			var b bytes.Buffer
			spell(&b, v, r)
			q, err := Parse(b.Bytes())
			if err != nil {
				t.Fatalf("Parse(%q) of a valid spelling: %v", b.Bytes(), err)
			}
			return q.Canonical
		}
		first := canon(v)
		for range 3 {
			if again := canon(v); !bytes.Equal(again, first) {
				t.Fatalf("two spellings of one value: canonical %q and %q", first, again)
			}
		}
		// Decoding is lossless unless the input holds bytes that are not
		// UTF-8 or lone surrogate escapes (both become U+FFFD) or repeated
		// member names (the last one wins).
		plain := !lossy && utf8.Valid(in) && !hasSurrogateEscape(in)
		if plain {
			q, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", in, err)
			}
			if !bytes.Equal(q.Canonical, first) {
				t.Fatalf("input %q: canonical %q, but a respelling of it gives %q", in, q.Canonical, first)
			}
		}
		leaves := nodes(&v, nil)
		mutate(leaves[r.IntN(len(leaves))])
		if other := canon(v); bytes.Equal(other, first) {
			t.Fatalf("a changed value has the same canonical form %q", first)
		}
	})
}

// decodeValue reads the next value from d into a value. It sets lossy when
// an object repeats a member name, keeping the last one as upstream parsers
// do. It reports false for a number whose exponent is out of range.
func decodeValue(t *testing.T, d *json.Decoder, lossy *bool) (value, bool) {
	tok, err := d.Token()
	if err != nil {
		t.Fatalf("encoding/json cannot decode valid JSON: %v", err)
	}
	switch x := tok.(type) {
	case nil:
		return value{kind: 0}, true
	case bool:
		return value{kind: 1, b: x}, true
	case json.Number:
		return numberValue(string(x))
	case string:
		return value{kind: 3, s: x}, true
	}
	delim := tok.(json.Delim)
	v := value{kind: 4}
	if delim == '{' {
		v.kind = 5
	}
	for d.More() {
		name := ""
		if v.kind == 5 {
			tok, err := d.Token()
			if err != nil {
				t.Fatal(err)
			}
			name = tok.(string)
		}
		e, ok := decodeValue(t, d, lossy)
		if !ok {
			return v, false
		}
		if v.kind == 5 {
			if i := indexOf(v.names, name); i >= 0 {
				*lossy = true
				v.names = append(v.names[:i], v.names[i+1:]...)
				v.elems = append(v.elems[:i], v.elems[i+1:]...)
			}
			v.names = append(v.names, name)
		}
		v.elems = append(v.elems, e)
	}
	if _, err := d.Token(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return v, true
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// numberValue splits the text of a JSON number into sign, significant
// digits and exponent, exactly.
func numberValue(s string) (value, bool) {
	v := value{kind: 2}
	if strings.HasPrefix(s, "-") {
		v.neg, s = true, s[1:]
	}
	mant, expText, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	exp := 0
	if expText != "" {
		n, err := strconv.Atoi(expText)
		if err != nil || n > 1<<30 || n < -(1<<30) {
			return v, false
		}
		exp = n
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	if trimmed == "" {
		trimmed, exp = "0", 0
	}
	v.digits, v.exp = trimmed, exp
	return v, true
}

// hasSurrogateEscape reports whether in holds a \uD800–\uDFFF escape,
// paired or not. An escaped backslash followed by "u" is no escape, but
// counting it only makes the check stricter.
func hasSurrogateEscape(in []byte) bool {
	for i := 0; i+3 < len(in); i++ {
		if in[i] == '\\' && in[i+1] == 'u' && (in[i+2] == 'd' || in[i+2] == 'D') &&
			strings.IndexByte("89abcdefABCDEF", in[i+3]) >= 0 {
			return true
		}
	}
	return false
}

// nodes lists v and every value inside it.
func nodes(v *value, out []*value) []*value {
	out = append(out, v)
	for i := range v.elems {
		out = nodes(&v.elems[i], out)
	}
	return out
}

// mutate changes v to a value of different meaning.
func mutate(v *value) {
	switch v.kind {
	case 0:
		*v = value{kind: 1}
	case 1:
		v.b = !v.b
	case 2:
		if v.digits == "0" {
			v.digits = "1"
		} else {
			// D×10^X becomes (10D+1)×10^(X-1): one more significant digit.
			v.digits += "1"
			v.exp--
		}
	case 3:
		v.s += "x"
	case 4:
		v.elems = append(v.elems, value{kind: 0})
	case 5:
		name := "\x00new"
		for indexOf(v.names, name) >= 0 {
			name += "_"
		}
		v.names = append(v.names, name)
		v.elems = append(v.elems, value{kind: 0})
	}
}
