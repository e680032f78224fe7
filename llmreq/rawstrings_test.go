package llmreq

import "testing"

func TestDecodedLen(t *testing.T) {
	for raw, want := range map[string]int64{
		``: 0, `abc`: 3, `\n`: 1, `\/\"\\`: 3, `\u0041`: 1, `\u00e9`: 2, `\u20ac`: 3,
		`\ud83d\ude00`: 4, `\ud800`: 3, `\udc00\ud800`: 6, `\ud800\u0041`: 4, `a\ud83d\ude00b\tc`: 8, "\xff": 1,
	} {
		if got := decodedLen([]byte(raw)); got != want {
			t.Errorf("decodedLen(%s) = %d, want %d", raw, got, want)
		}
		q, err := Parse([]byte(`"` + raw + `"`))
		if err != nil || q.TextBytes != want {
			t.Errorf("Parse counts %d bytes of %s (%v), decodedLen %d", q.TextBytes, raw, err, want)
		}
	}
}

func TestDecodesTo(t *testing.T) {
	for _, tc := range []struct {
		raw, name string
		want      bool
	}{
		{`type`, "type", true},
		{`typ\u0065`, "type", true},
		{`\u0074\u0079\u0070\u0065`, "type", true},
		{`\type`, "type", false}, // a tab, then "ype"
		{`typ`, "type", false},
		{`types`, "type", false},
		{`typ\u0065s`, "type", false},
		{`typ\u00e9`, "type", false},
		{`\/`, "/", true},
	} {
		if got := decodesTo([]byte(tc.raw), tc.name); got != tc.want {
			t.Errorf("decodesTo(%s, %q) = %v", tc.raw, tc.name, got)
		}
	}
}
