package llmreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
)

// FuzzParse checks Parse against encoding/json on any input. The two accept
// exactly the same inputs: both allow strings with bytes that are not UTF-8
// and lone surrogate escapes, and both stop at nesting depth 10000. Seeds
// live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := Parse(in)
		if valid := json.Valid(in); valid != (err == nil) {
			t.Fatalf("json.Valid = %v, Parse error = %v", valid, err)
		}
		if err != nil {
			if !errors.Is(err, ErrNotJSON) || q != nil {
				t.Fatalf("Parse = %v, %v; want ErrNotJSON", q, err)
			}
			return
		}
		if !json.Valid(q.Canonical) {
			t.Fatalf("canonical %q is not valid JSON", q.Canonical)
		}
		again, err := Parse(q.Canonical)
		if err != nil || !bytes.Equal(again.Canonical, q.Canonical) {
			t.Fatalf("canonical %q is not a fixed point: %q, %v", q.Canonical, again.Canonical, err)
		}
		if a, b := decode(t, in), decode(t, q.Canonical); !sameJSON(a, b) {
			t.Fatalf("canonical %q decodes to %#v, input to %#v", q.Canonical, b, a)
		}
		if again.Model != q.Model || again.Stream != q.Stream || again.MaxOutputTokens != q.MaxOutputTokens || again.TextBytes != q.TextBytes ||
			again.Images != q.Images {
			t.Fatalf("fields differ between input and canonical form: %+v, %+v", q, again)
		}
		if len(q.tops) > 0 {
			name := string(appendDecoded(nil, q.name(q.tops[0]), false))
			var w bytes.Buffer
			if err := q.WriteCanonical(&w, []string{name}); err != nil {
				t.Fatal(err)
			}
			left, err := Parse(w.Bytes())
			if err != nil || !bytes.Equal(left.Canonical, w.Bytes()) {
				t.Fatalf("WriteCanonical without %q = %q is not canonical JSON: %v", name, w.Bytes(), err)
			}
		}
	})
}

func decode(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("encoding/json cannot decode %q: %v", b, err)
	}
	return v
}

// sameJSON compares decoded values. Numbers are compared as float64: a
// necessary condition only (exactness is pinned by the table tests), but one
// that catches any number the canonical form gets wrong by more than
// rounding.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, _ := strconv.ParseFloat(string(a), 64)
		y, _ := strconv.ParseFloat(string(b), 64)
		return x == y
	}
	return a == b
}
