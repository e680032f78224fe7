package llmreq

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// checkScan compares what Scan reads of body with what Parse reads.
func checkScan(t *testing.T, body []byte) {
	t.Helper()
	f, err := Scan(body)
	q, perr := Parse(body)
	if perr != nil {
		if !errors.Is(err, ErrNotJSON) || f == nil || f.TextBytes != int64(len(body)) {
			t.Fatalf("Parse: %v; Scan: %v, %+v for %q", perr, err, f, body)
		}
		return
	}
	if err != nil {
		t.Fatalf("Scan: %v; Parse accepts %q", err, body)
	}
	if *f != q.Fields {
		t.Fatalf("Scan reads %+v, Parse %+v in %q", *f, q.Fields, body)
	}
	if f.TextBytes < 0 || f.TextBytes > int64(len(body)) || f.Images.OpenAI < 0 || f.Images.Anthropic < 0 {
		t.Fatalf("Scan reads %d bytes of text and %+v images in %d bytes: %q", f.TextBytes, f.Images, len(body), body)
	}
}

func TestScanReadsWhatParseReads(t *testing.T) {
	for _, body := range []string{
		`{"model":"gpt-4o","stream":true,"max_tokens":100,"max_completion_tokens":1e3,"messages":[{"content":"héllo \ud83d\ude00"}]}`,
		`{"mod\u0065l":"a\nb","model":"\u0063laude-3"}`,
		`{"model":"claude","model":7}`,
		`{"model":"\ud800\udc00\ud800","max_output_tokens":-1,"max_tokens":1.5,"stream":"true"}`,
		`{"max_tokens":100000000000000000000000,"stream":true,"stream":false}`,
		`{"model":{"model":"x"},"x":[{"model":"y"}]}`,
		`{"stream":true,"stream_options":{"include_usage":false}}`,
		`{"stream_options":null,"x":{"stream_options":{}}}`,
		`{"stream":true,"stream_options":{"x":"` + strings.Repeat("long ", 2000) + `"}}`,
		"{\"model\":\"a\xffb\"}",
		`["model","x"]`,
		`"just a string"`,
		`{"model":"x",}`,
		`model=claude`,
		``,
	} {
		checkScan(t, []byte(body))
	}
}

// TestScanLongValues: values longer than Scan keeps read as what they
// cannot be ruled out to be.
func TestScanLongValues(t *testing.T) {
	long := strings.Repeat("x", maxFieldValue)
	f, err := Scan([]byte(`{"model":"claude-3","model":"` + long + `","max_tokens":1` + strings.Repeat("0", maxFieldValue) + `}`))
	if err != nil || f.Model != "" || f.MaxOutputTokens != math.MaxInt64 {
		t.Fatalf("%+v, %v", f, err)
	}
}

// FuzzScan checks that Scan, which never builds the canonical form, reads
// the same Fields as Parse.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`,
		`{"mod\u0065l":"\u00e9","max_output_tokens":1e2,"stream":true}`,
		`{"model":"a","model":null,"max_completion_tokens":-0}`,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"hi"}]}]}`,
		`{"input":[{"content":[{"type":"input_image","image_url":"data:image/png;base64,\u0041\/"}]}]}`,
		`{"messages":[{"content":[{"type":"tool_result","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]},` +
			`{"source":{"url":"x","type":"url"},"typ\u0065":"image"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScan(t, body)
	})
}

// BenchmarkScanHostile scans each hostile body and a chat body; the limit
// is 50 ms per MiB.
func BenchmarkScanHostile(b *testing.B) {
	for _, h := range hostileBodies {
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(h.body)))
			for b.Loop() {
				if _, err := Scan(h.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScan1K(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body1K)))
	for b.Loop() {
		if _, err := Scan(body1K); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStreamOptions(t *testing.T) {
	for body, want := range map[string]bool{
		`{"stream":true,"stream_options":{"include_usage":true}}`: true,
		`{"stream":true,"stream_options":null}`:                   true,
		`{"stream":true,"x":{"stream_options":{}}}`:               false,
		`{"stream":true}`: false,
	} {
		f, err := Scan([]byte(body))
		if err != nil || f.StreamOptions != want {
			t.Errorf("Scan(%s).StreamOptions = %v (%v), want %v", body, f.StreamOptions, err, want)
		}
		checkScan(t, []byte(body))
	}
}

// TestModelInAnotherCase: a member named "model" in another case makes
// the model ambiguous, in Scan and Parse alike: encoding/json reads it,
// case-sensitive parsers do not.
func TestModelInAnotherCase(t *testing.T) {
	for _, body := range []string{
		`{"model":"gpt-4o-mini","Model":"gpt-4o"}`,
		`{"MODEL":"gpt-4o","model":"gpt-4o-mini"}`,
		`{"mOdEl":"gpt-4o"}`,
		`{"Mod\u0065l":"gpt-4o","model":"gpt-4o-mini"}`,
	} {
		for name, read := range map[string]func([]byte) (*Fields, error){
			"Scan": Scan,
			"Parse": func(b []byte) (*Fields, error) {
				q, err := Parse(b)
				if err != nil {
					return nil, err
				}
				return &q.Fields, nil
			},
		} {
			f, err := read([]byte(body))
			if err != nil || !f.ModelAmbiguous || f.Model != "" {
				t.Errorf("%s(%s) = model %q, ambiguous %v, %v; want ambiguous, no model", name, body, f.Model, f.ModelAmbiguous, err)
			}
		}
	}
	for _, body := range []string{`{"model":"gpt-4o-mini","models":"x","mode":"y"}`, `{"model":"a","nested":{"Model":"b"}}`} {
		if f, _ := Scan([]byte(body)); f.ModelAmbiguous || f.Model == "" {
			t.Errorf("Scan(%s): ambiguous %v, model %q", body, f.ModelAmbiguous, f.Model)
		}
	}
}
