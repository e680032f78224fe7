package redact

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// fuzzSecrets are spliced into the fuzz input, each between spaces: shapes
// the rules must find wherever they stand.
var fuzzSecrets = func() []struct{ key, keep string } {
	var out []struct{ key, keep string }
	for _, k := range allKeys {
		out = append(out, struct{ key, keep string }{k.key, k.keep})
	}
	return append(out,
		struct{ key, keep string }{"Bearer " + tokenJWT, "Bearer "},
		struct{ key, keep string }{"bearer " + tokenOpaque, "bearer "},
		struct{ key, keep string }{strings.ReplaceAll(keyProj, "-", "%2D"), "sk%2Dproj%2D"},
		struct{ key, keep string }{strings.ReplaceAll(keyAnt, "-", `\u002d`), `sk\u002dant\u002dapi03\u002d`},
		struct{ key, keep string }{"access_token=" + tokenJWT, "access_token="},
		struct{ key, keep string }{"X-Auth-Token: " + tokenOpaque, "X-Auth-Token: "},
		struct{ key, keep string }{"Ocp-Apim-Subscription-Key: " + keyAzure, "Ocp-Apim-Subscription-Key: "},
	)
}()

var fuzzExtra = func() *Scrubber {
	s, err := New(`hf_[A-Za-z0-9]{30,}`, `\d{12,}`, `(?i)password=([^&\s]+)`, `"x":\s*\w+`, `[0-9a-f]{10,}`)
	if err != nil {
		panic(err)
	}
	return s
}()

func FuzzScrub(f *testing.F) {
	seeds := []string{
		accessLine(""),
		accessLine(`"X-Api-Key":["` + keyAnt + `"],"Authorization":["Bearer ` + tokenJWT + `"],`),
		`{"msg":"upstream error","body":"{\"error\":{\"message\":\"Incorrect API key provided: ` + keyProj + `\"}}"}`,
		`{"m":"\"x-api-key\":\"` + keyAzure + `\" \\\"api_key\\\":[\\\"a\\\",\\\"b\\\"]"}`,
		`{"uri":"/v1beta/models?key=` + keyGoogle + `&alt=sse","n":123456789012345,"ok":true}`,
		"map[Authorization:[Bearer abc.DEF-123] X-Api-Key:[" + keyAzure + "]]",
		"the bearer of bad news; a task-list; risk-free; key=; sk-short",
		`{"a":"\u00e9sk-` + keyLiteLLM[3:] + `\n%2F` + keyGoogle + `"}`,
		`["x","\\\"","\u0041Iza` + keyGoogle[4:] + `"]`,
		`{"uri":"/v1?m=sk%252Dproj%252D` + keyProj[8:] + `&token=` + tokenOpaque + `","h":{"Ocp-Apim-Subscription-Key":["` + keyAzure + `"]}}`,
		`{"m":"{\"k\":\"sk\\u002dproj\\u002d` + keyProj[8:] + `\"}","a":"%2`,
		"",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8, at uint16) {
		for _, s := range []*Scrubber{Default(), fuzzExtra} {
			checkScrub(t, s, data)
		}
		// Splice a secret into the input; it must not survive.
		sec := fuzzSecrets[int(kind)%len(fuzzSecrets)]
		pos := int(at) % (len(data) + 1)
		in := make([]byte, 0, len(data)+len(sec.key)+2)
		in = append(append(append(append(append(in, data[:pos]...), ' '), sec.key...), ' '), data[pos:]...)
		for _, s := range []*Scrubber{Default(), fuzzExtra} {
			out := checkScrub(t, s, in)
			// Runs of the secret after its visible prefix: a run across
			// the prefix may be in data next to the space of the splice.
			for i := len(sec.keep); i+12 <= len(sec.key); i++ {
				w := sec.key[i : i+12]
				if bytes.Contains(out, []byte(w)) && !bytes.Contains(data, []byte(w)) {
					t.Fatalf("secret run %q survived:\n in: %q\nout: %q", w, in, out)
				}
			}
		}
	})
}

// checkScrub scrubs in with s and checks what holds for every input.
func checkScrub(t *testing.T, s *Scrubber, in []byte) []byte {
	t.Helper()
	orig := bytes.Clone(in)
	out, changed := s.Bytes([]byte("P"), in)
	if !bytes.Equal(in, orig) {
		t.Fatal("input modified")
	}
	if !changed {
		if !bytes.Equal(out, in) {
			t.Fatalf("unchanged but different: %q", out)
		}
	} else {
		if len(out) == 0 || out[0] != 'P' {
			t.Fatalf("dst not kept: %q", out)
		}
		out = out[1:]
	}
	if json.Valid(in) && !json.Valid(out) {
		t.Fatalf("valid JSON became invalid:\n in: %q\nout: %q", in, out)
	}
	if s == Default() {
		if again, _ := s.Bytes(nil, out); !bytes.Equal(again, out) {
			t.Fatalf("second pass changed the output:\n once: %q\ntwice: %q", out, again)
		}
	}
	return out
}
