package llmreq

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAskStreamUsage(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"model":"m","stream":true}`, `{"stream_options":{"include_usage":true},"model":"m","stream":true}`},
		{" \n{ \"stream\":true }", " \n{\"stream_options\":{\"include_usage\":true}, \"stream\":true }"},
		{`{}`, `{"stream_options":{"include_usage":true}}`},
		{`{ }`, `{"stream_options":{"include_usage":true} }`},
		{`[{"stream":true}]`, `[{"stream":true}]`},
		{`x{}`, `x{}`},
		// stream_options that does not ask for the usage, however spelt,
		// is replaced: the body goes in its canonical form.
		{`{"stream": true, "stream_options": {"include_usage": false, "include_obfuscation": false}}`,
			`{"stream_options":{"include_obfuscation":false,"include_usage":true},"stream":true}`},
		{`{"stream":true,"stream_options":{"include_obfuscation":false},"stream_options":{"include_usage":false,"include_usage":false,"x":1}}`,
			`{"stream_options":{"x":1,"include_usage":true},"stream":true}`},
		{`{"stream":true,"stream_options":null,"model":"m"}`, `{"stream_options":{"include_usage":true},"model":"m","stream":true}`},
		{`{"stream_options":{},"stream":true,"stream_options":{"include_usage":false}}`, `{"stream_options":{"include_usage":true},"stream":true}`},
	} {
		f, _ := Scan([]byte(tc.body))
		got := string(AskStreamUsage([]byte(tc.body), f))
		if got != tc.want {
			t.Errorf("AskStreamUsage(%q) = %q, want %q", tc.body, got, tc.want)
		}
		if json.Valid([]byte(tc.body)) && !json.Valid([]byte(got)) {
			t.Errorf("AskStreamUsage(%q) = %q: not JSON", tc.body, got)
		}
	}
}

func TestAsksNoStreamUsage(t *testing.T) {
	for _, tc := range []struct {
		path, body string
		header     []string
		want       bool
	}{
		{"/v1/chat/completions", `{"stream":true}`, nil, true},
		{"/openai/v1/chat/completions", `{"stream":true,"model":"m"}`, nil, true},
		// A stream that says not to report its usage is asked for it all
		// the same: a token zone charges what it cost.
		{"/v1/chat/completions", `{"stream":true,"stream_options":{"include_usage":false}}`, nil, true},
		{"/v1/chat/completions", `{"stream":true,"stream_options":{}}`, nil, true},
		{"/v1/chat/completions", `{"stream":true,"stream_options":{"include_usage":true}}`, nil, false},
		{"/v1/chat/completions", `{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"include_usage":false}}`, nil, true},
		{"/v1/chat/completions", `{"stream":false}`, nil, false},
		{"/v1/responses", `{"stream":true}`, nil, false},
		{"/v1/messages", `{"stream":true}`, nil, false},
		{"/v1/chat/completions", `{"stream":true}`, []string{"Anthropic-Version", "2023-06-01"}, true}, // the path says OpenAI
	} {
		f, err := Scan([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := AsksNoStreamUsage(credentialRequest(tc.path, tc.header...), f); got != tc.want {
			t.Errorf("%s %s %v: %v, want %v", tc.path, tc.body, tc.header, got, tc.want)
		}
	}
}

// TestSetBody: the request sends the new body, and its memo reads the new
// one: what a cache keys on is what the upstream answers. What the memo
// parsed before stays as it was for those who hold it (a cache keyed on
// it before a later handler changed the body).
func TestSetBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true}`))
	m := new(Memo)
	before, err := m.Inspect(r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	m.SetBody(r, AskStreamUsage([]byte(`{"stream":true}`), &Fields{}))
	// What the new body says is known at once, without reading r.
	if f := m.Known(); f == nil || !f.StreamUsage || !f.Stream {
		t.Fatalf("after SetBody the memo knows %+v", f)
	}
	want := `{"stream_options":{"include_usage":true},"stream":true}`
	if q, err := m.Inspect(r, 1<<20); err != nil || string(q.Body) != want {
		t.Fatalf("the memo holds %v, %v", q, err)
	}
	if before.Model != "m" || string(before.Canonical) != `{"model":"m","stream":true}` {
		t.Fatalf("the earlier parse became %q %q", before.Model, before.Canonical)
	}
	if f, err := m.Fields(r, 1<<20); err != nil || !f.StreamOptions {
		t.Fatalf("the memo's fields %+v, %v", f, err)
	}
	sent, _ := io.ReadAll(r.Body)
	if string(sent) != want || r.ContentLength != int64(len(want)) || r.Header.Get("Content-Length") != "55" {
		t.Fatalf("sent %q, length %d %q", sent, r.ContentLength, r.Header.Get("Content-Length"))
	}
}
