package redact

import (
	"encoding/json"
	"regexp/syntax"
	"strings"
	"testing"
)

func TestNewErrors(t *testing.T) {
	for _, expr := range []string{`hf_[`, `(?<x)`, `a*`, `x|`, `^`} {
		_, err := New(`ok_[a-z]{10}`, expr)
		if err == nil || !strings.Contains(err.Error(), expr) {
			t.Errorf("New(%q): error %v does not name the pattern", expr, err)
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	cases := []struct {
		expr, lit string
		fold      bool
	}{
		{`hf_[A-Za-z0-9]{30,}`, "hf_", false},
		{`\bghp_[A-Za-z0-9]{36}\b`, "ghp_", false},
		{`(?i)token=\w+`, "token=", true},
		{`password=([^&\s]+)`, "password=", false},
		{`x*hello`, "hello", false},
		{`(?:abc)+\d`, "abc", false},
		{`abc|def`, "", false},
		{`(?i)jéton=\w+`, "", false},
		{`\d{16}`, "", false},
	}
	for _, c := range cases {
		re, err := syntax.Parse(c.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		lit, fold := requiredLiteral(re.Simplify())
		if lit != c.lit || fold != c.fold {
			t.Errorf("%s: got %q fold=%v, want %q fold=%v", c.expr, lit, fold, c.lit, c.fold)
		}
	}
}

func TestExtraPatterns(t *testing.T) {
	hf := "hf_" + fake("hf", 34, alnum)
	ghp := "ghp_" + fake("ghp", 36, alnum)
	s, err := New(`hf_[A-Za-z0-9]{30,}`, `(?i)password=([^&\s"]+)`, `\b\d{16}\b`, `"token":"\w+"`, `ghp_[A-Za-z0-9]{36}`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, in, want string }{
		{"whole match keeps literal prefix", "using " + hf + " now", "using " + red(hf, "hf_") + " now"},
		{"group", "/login?user=a&PassWord=hunter2&x=1", "/login?user=a&PassWord=" + red("hunter2", "") + "&x=1"},
		{"number outside string", `{"card":4111111111111111,"n":1}`, `{"card":"` + red("4111111111111111", "") + `","n":1}`},
		{"number inside string", `{"m":"card 4111111111111111 ok"}`, `{"m":"card ` + red("4111111111111111", "") + ` ok"}`},
		{"number in text", "card 4111111111111111 ok", "card " + red("4111111111111111", "") + " ok"},
		{"match across quotes", `{"token":"abc123"}`, `{"token":"` + red("abc123", "") + `"}`},
		{"with builtin", "x-api-key: " + ghp + " and " + keyProj,
			"x-api-key: " + red(ghp, "ghp_") + " and " + red(keyProj, "sk-proj-")},
		{"no match", `{"msg":"fine"}`, `{"msg":"fine"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.String(c.in); got != c.want {
				t.Fatalf("\n in: %s\ngot: %s\nwant: %s", c.in, got, c.want)
			}
			if json.Valid([]byte(c.in)) && !json.Valid([]byte(s.String(c.in))) {
				t.Fatal("output is not JSON")
			}
		})
	}
}

// TestExtraPatternJSONSafety runs patterns that match across the structure
// of JSON lines; whatever they match, the line must stay JSON.
func TestExtraPatternJSONSafety(t *testing.T) {
	s, err := New(`[0-9a-f]{8,}`, `\S{40,}`, `e\d+`, `"x":\s*\w+`, `true|null`)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"m":"\u00e9abcdef0123 \n0123456789abcdef\\0123456789"}`,
		`{"a":[1e123456789,2.5e-10,true,null],"b":{"x": 12345678}}`,
		accessLine(`"X-Api-Key":["` + keyAnt + `"],`),
		`{"s":"` + strings.Repeat(`\"`, 30) + `deadbeefcafe"}`,
		`[{"x":"` + keyGoogle + `"},"\\\"0123abcd0123abcd\\\""]`,
	}
	for _, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("test line is not JSON: %s", line)
		}
		out, _ := s.Bytes(nil, []byte(line))
		if !json.Valid(out) {
			t.Errorf("not JSON after scrubbing:\n in: %s\nout: %s", line, out)
		}
	}
}

func TestFoldLiteralFilter(t *testing.T) {
	s, err := New(`(?i)secret-[a-z0-9]{10}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String("x SECRET-ABCDEF1234 y"); got != "x "+red("SECRET-ABCDEF1234", "")+" y" {
		t.Fatalf("got %q", got)
	}
}
