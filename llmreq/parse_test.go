package llmreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Request {
	t.Helper()
	q, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return q
}

func TestCanonicalForm(t *testing.T) {
	tests := []struct{ in, want string }{
		{` { "b" : [ 1 , 2 ] ,	"a"	:	null }` + "\n", `{"a":null,"b":[1,2]}`},
		{`{"z":{"y":1,"x":[{"d":true,"c":false}]},"a":""}`, `{"a":"","z":{"x":[{"c":false,"d":true}],"y":1}}`},
		{`{"a":1,"a":2,"A":0}`, `{"A":0,"a":1,"a":2}`},
		{`{"#":1,"\"":2,"\\":3,"\u0001":4}`, `{"\u0001":4,"\"":2,"#":1,"\\":3}`}, // decoded order
		{`{"é":1,"z":2,"\u00e8":3}`, `{"z":2,"è":3,"é":1}`},
		{`"\"\\\/\b\f\n\r\t"`, `"\"\\/\u0008\u000c\u000a\u000d\u0009"`},
		{`"\u0041\u00e9\u4e2d\uD83D\uDE00\u001F\u007f"`, "\"Aé中😀\\u001f\x7f\""},
		{`"\ud800"`, `"\ud800"`},
		{`"\uDBFF\u0041\uDC00"`, `"\udbffA\udc00"`},
		{`"\ud800\ud800\udc00"`, "\"\\ud800\U00010000\""},
		{"\"\xff\xfe\"", "\"\xff\xfe\""}, // not UTF-8: kept as received
		{`0`, `0`},
		{`-0`, `0`},
		{`-0.000e-7`, `0`},
		{`1.0`, `1`},
		{`-1.50`, `-15e-1`},
		{`0.001`, `1e-3`},
		{`1E+2`, `100`},
		{`12345678901234567891`, `12345678901234567891`},
		{`123456789012345678901234567890`, `123456789012345678901234567890`},
		{`100000000000000000000`, `100000000000000000000`},
		{`1000000000000000000000`, `1e21`},
		{`1e20`, `100000000000000000000`},
		{`1e-0000000000000000000000000000007`, `1e-7`},
		{`1.5e99999999999999999999`, `15e99999999999999999998`},
		{`-2e-99999999999999999999`, `-2e-99999999999999999999`},
		{`[true,false,null]`, `[true,false,null]`},
		{`[]`, `[]`},
		{`{ }`, `{}`},
		{`[{},[],{"a":[]}]`, `[{},[],{"a":[]}]`},
	}
	for _, tt := range tests {
		q := mustParse(t, tt.in)
		if string(q.Canonical) != tt.want {
			t.Errorf("Parse(%q).Canonical = %q, want %q", tt.in, q.Canonical, tt.want)
		}
		if !json.Valid(q.Canonical) {
			t.Errorf("Parse(%q).Canonical = %q is not valid JSON", tt.in, q.Canonical)
		}
	}
}

func TestCanonicalEqual(t *testing.T) {
	groups := [][]string{
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, "{\n  \"b\": 2,\n  \"a\": 1\n}"},
		{`1`, `1.0`, `1.00`, `10e-1`, `0.1e1`, `1E0`, `1e+0`, `100e-2`, `0.00001e5`},
		{`0`, `-0`, `0.0`, `0e5`, `-0.0E-10`, `0.000`},
		{`100`, `1e2`, `1E2`, `10e1`, `0.1e3`, `1.00e+2`},
		{`-1.5`, `-15e-1`, `-0.15E1`, `-150e-2`},
		{`123456789012345678901234567890`, `1.23456789012345678901234567890e29`, `12345678901234567890123456789e1`},
		{`1e100000000000000000000`, `10e99999999999999999999`, `0.1e100000000000000000001`},
		{`"A"`, `"\u0041"`},
		{`"/"`, `"\/"`, `"\u002f"`, `"\u002F"`},
		{`"é"`, `"\u00e9"`, `"\u00E9"`},
		{`"😀"`, `"\ud83d\ude00"`, `"\uD83D\uDE00"`},
		{`"\n"`, `"\u000a"`, `"\u000A"`},
		{`"\""`, `"\u0022"`},
		{`"\\"`, `"\u005c"`, `"\u005C"`},
		{`{"b":1,"a":2}`, `{"\u0062":1,"a":2}`, `{"a":2,"\u0062":1}`},
		{
			`{"x":{"b":[{"d":1,"c":2}],"a":true},"m":"gpt"}`,
			`{"m":"gpt","x":{"a":true,"b":[{"c":2.0,"d":1}]}}`,
			`{ "x" : { "a" : true , "b" : [ { "c" : 20e-1 , "d" : 1 } ] } , "m" : "\u0067pt" }`,
		},
	}
	for _, group := range groups {
		want := mustParse(t, group[0]).Canonical
		for _, in := range group[1:] {
			if got := mustParse(t, in).Canonical; !bytes.Equal(got, want) {
				t.Errorf("Parse(%q).Canonical = %q, want %q as for %q", in, got, want, group[0])
			}
		}
	}
}

func TestCanonicalDiffer(t *testing.T) {
	pairs := [][2]string{
		{`{"a":1}`, `{"a":2}`},
		{`{"seed":12345678901234567891}`, `{"seed":12345678901234567892}`},
		{`0.1`, `0.10000000000000001`}, // the same float64
		{`1e400`, `1e401`},
		{`"1"`, `1`},
		{`{"a":1,"a":2}`, `{"a":2,"a":1}`},
		{`[1,2]`, `[2,1]`},
		{`null`, `false`},
		{`""`, `null`},
		{`{"a":[]}`, `{"a":{}}`},
		{`{"a":1}`, `{"A":1}`},
		{`"\ud800"`, `"\ufffd"`},
		{`"\ud800"`, `"\udc00"`},
		{"\"\xed\xa0\x80\"", `"\ud800"`},
		{`-1`, `1`},
	}
	for _, p := range pairs {
		a, b := mustParse(t, p[0]).Canonical, mustParse(t, p[1]).Canonical
		if bytes.Equal(a, b) {
			t.Errorf("Parse(%q) and Parse(%q) both give %q", p[0], p[1], a)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []string{
		``, ` `, `{`, `}`, `[`, `]`, `[1,]`, `{"a":1,}`, `[,1]`, `{,}`, `{'a':1}`, `'a'`,
		`NaN`, `Infinity`, `-Infinity`, `01`, `-01`, `00`, `1.`, `.5`, `1e`, `1e+`, `+1`, `-`, `--1`, `1.e5`, `0x10`,
		"// c\n1", `/*c*/1`, "1 // c", "\"a\tb\"", "\"a\nb\"", "\"\x00\"", `"\x"`, `"\u12g4"`, `"\u00"`, `"\U0041"`, `"\`, `"abc`, `"`,
		`1 2`, `{} x`, `[1]]`, `{"a":1}}`, `{"a"}`, `{"a" 1}`, `{1:2}`, `{"a":}`, `{:1}`, `[1 2]`, `{"a":1 "b":2}`,
		`tru`, `nul`, `True`, `nulll`, `falsey`, "\xef\xbb\xbf{}", "{}\x00",
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
		strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1),
		strings.Repeat("[", 100),
	}
	for _, in := range tests {
		q, err := Parse([]byte(in))
		if !errors.Is(err, ErrNotJSON) || q != nil {
			t.Errorf("Parse(%.40q) = %v, %v; want ErrNotJSON", in, q, err)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("test case %.40q is valid for encoding/json", in)
		}
	}
}

func TestParseDeep(t *testing.T) {
	// The deepest nesting accepted, with objects that all need sorting, so
	// that both passes walk the full depth.
	in := strings.Repeat(`{"b":`, maxDepth) + "1" + strings.Repeat(`,"a":0}`, maxDepth)
	want := strings.Repeat(`{"a":0,"b":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)
	if got := mustParse(t, in).Canonical; string(got) != want {
		t.Errorf("deep object: canonical form differs (len %d, want %d)", len(got), len(want))
	}
	arrays := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if got := mustParse(t, arrays).Canonical; string(got) != arrays {
		t.Errorf("deep arrays: canonical form differs")
	}
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		in        string
		model     string
		stream    bool
		maxTokens int64
		text      int64
	}{
		{`{"model":"gpt-4o","stream":true,"max_tokens":100}`, "gpt-4o", true, 100, 6},
		{`{"model":"gpt-\u0034o"}`, "gpt-4o", false, 0, 6},
		{`{"m\u006fdel":"x"}`, "x", false, 0, 1},
		{`{"model":"a\"b\\c\n"}`, "a\"b\\c\n", false, 0, 6},
		{`{"model":42}`, "", false, 0, 0},
		{`{"model":"a","model":"b"}`, "b", false, 0, 2},
		{`{"model":"a","model":null}`, "", false, 0, 1},
		{`{"x":{"model":"a","stream":true,"max_tokens":5}}`, "", false, 0, 1},
		{`[{"model":"a"}]`, "", false, 0, 1},
		{`"model"`, "", false, 0, 5},
		{`{"stream":"true"}`, "", false, 0, 4},
		{`{"stream":1}`, "", false, 0, 0},
		{`{"stream":true,"stream":false}`, "", false, 0, 0},
		{`{"max_tokens":100,"max_completion_tokens":200}`, "", false, 200, 0},
		{`{"max_output_tokens":1e3,"max_tokens":10}`, "", false, 1000, 0},
		{`{"max_tokens":100.0}`, "", false, 100, 0},
		{`{"max_tokens":1.5}`, "", false, 0, 0},
		{`{"max_tokens":-5}`, "", false, 0, 0},
		{`{"max_tokens":"100"}`, "", false, 0, 3},
		{`{"max_tokens":9223372036854775807}`, "", false, math.MaxInt64, 0},
		{`{"max_tokens":9223372036854775808}`, "", false, math.MaxInt64, 0},
		{`{"max_tokens":1e30}`, "", false, math.MaxInt64, 0},
		{`{"max_tokens":5,"max_tokens":3}`, "", false, 3, 0},
		{`{"a":"héllo","b":["x\n",{"c":"\ud83d\ude00\ud800"}]}`, "", false, 0, 6 + 2 + 4 + 3},
	}
	for _, tt := range tests {
		q := mustParse(t, tt.in)
		if q.Model != tt.model || q.Stream != tt.stream || q.MaxOutputTokens != tt.maxTokens || q.TextBytes != tt.text {
			t.Errorf("Parse(%q) = model %q stream %v max %d text %d; want %q %v %d %d",
				tt.in, q.Model, q.Stream, q.MaxOutputTokens, q.TextBytes, tt.model, tt.stream, tt.maxTokens, tt.text)
		}
		if !bytes.Equal(q.Body, []byte(tt.in)) {
			t.Errorf("Parse(%q).Body = %q", tt.in, q.Body)
		}
	}
}

// writeCounter counts Write calls.
type writeCounter struct {
	bytes.Buffer
	calls int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestWriteCanonical(t *testing.T) {
	const body = `{"e":5,"d":4,"c":3,"b":2,"a":1}`
	tests := []struct {
		in     string
		ignore []string
		want   string
	}{
		{body, nil, `{"a":1,"b":2,"c":3,"d":4,"e":5}`},
		{body, []string{"x"}, `{"a":1,"b":2,"c":3,"d":4,"e":5}`},
		{body, []string{"a"}, `{"b":2,"c":3,"d":4,"e":5}`},
		{body, []string{"e"}, `{"a":1,"b":2,"c":3,"d":4}`},
		{body, []string{"c"}, `{"a":1,"b":2,"d":4,"e":5}`},
		{body, []string{"b", "d"}, `{"a":1,"c":3,"e":5}`},
		{body, []string{"a", "c", "e"}, `{"b":2,"d":4}`},
		{body, []string{"a", "b"}, `{"c":3,"d":4,"e":5}`},
		{body, []string{"e", "a", "b", "c", "d"}, `{}`},
		{`{}`, []string{"a"}, `{}`},
		{`{"user":"u","user":"v","model":"m"}`, []string{"user"}, `{"model":"m"}`},
		{`{"us\"er":1,"x":2}`, []string{`us"er`}, `{"x":2}`},
		{`{"\u0075ser":1,"x":2}`, []string{"user"}, `{"x":2}`},
		{`{"a":{"user":1},"user":2}`, []string{"user"}, `{"a":{"user":1}}`},
		{`[{"user":1}]`, []string{"user"}, `[{"user":1}]`},
	}
	for _, tt := range tests {
		q := mustParse(t, tt.in)
		var w writeCounter
		if err := q.WriteCanonical(&w, tt.ignore); err != nil {
			t.Fatal(err)
		}
		got := w.String()
		if got != tt.want {
			t.Errorf("WriteCanonical(%q, %q) = %q, want %q", tt.in, tt.ignore, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("WriteCanonical(%q, %q) = %q is not valid JSON", tt.in, tt.ignore, got)
		}
		if again := mustParse(t, got).Canonical; string(again) != got {
			t.Errorf("WriteCanonical(%q, %q) = %q is not canonical (%q)", tt.in, tt.ignore, got, again)
		}
		// One write per run of kept members, plus braces when they stand alone.
		if w.calls > 2*len(tt.ignore)+2 {
			t.Errorf("WriteCanonical(%q, %q) made %d writes", tt.in, tt.ignore, w.calls)
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteCanonicalError(t *testing.T) {
	q := mustParse(t, `{"a":1,"b":2,"c":3}`)
	for _, ignore := range [][]string{nil, {"a"}, {"b"}, {"c"}, {"a", "b", "c"}} {
		if err := q.WriteCanonical(failWriter{}, ignore); err == nil {
			t.Errorf("WriteCanonical(failing writer, %q) = nil", ignore)
		}
	}
}
