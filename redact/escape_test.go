package redact

import (
	"strings"
	"testing"
)

// TestCredentialNames: the values of every listed header and parameter
// are replaced, in every form a log gives them and in any case.
func TestCredentialNames(t *testing.T) {
	checkScrubCases(t, Default(), []scrubCase{
		{"apim header", `"Ocp-Apim-Subscription-Key":["` + keyAzure + `"]`, `"Ocp-Apim-Subscription-Key":["` + red(keyAzure, "") + `"]`},
		{"apim upper", `"OCP-APIM-SUBSCRIPTION-KEY":["` + keyAzure + `"]`, `"OCP-APIM-SUBSCRIPTION-KEY":["` + red(keyAzure, "") + `"]`},
		{"apim text", "ocp-apim-subscription-key: " + keyAzure + "\r\n", "ocp-apim-subscription-key: " + red(keyAzure, "") + "\r\n"},
		{"apim query", "/chat?subscription-key=" + keyAzure + "&x=1", "/chat?subscription-key=" + red(keyAzure, "") + "&x=1"},
		{"x-auth-token", `"X-Auth-Token":["` + tokenOpaque + `"]`, `"X-Auth-Token":["` + red(tokenOpaque, "") + `"]`},
		{"x-auth-token short", `"x-auth-token":["abc"]`, `"x-auth-token":["` + red("abc", "") + `"]`},
		{"x-access-token", "X-Access-Token: " + tokenOpaque, "X-Access-Token: " + red(tokenOpaque, "")},
		{"private-token", `"Private-Token":["glpat-abcdEFGH1234"]`, `"Private-Token":["` + red("glpat-abcdEFGH1234", "") + `"]`},
		{"api_token json", `{"api_token":"hunter2"}`, `{"api_token":"` + red("hunter2", "") + `"}`},
		{"query token", "/v1/x?token=" + tokenOpaque + "&a=b", "/v1/x?token=" + red(tokenOpaque, "") + "&a=b"},
		{"query access_token jwt", "/v1/x?access_token=" + tokenJWT, "/v1/x?access_token=" + red(tokenJWT, "")},
		{"query refresh_token", "refresh_token=" + tokenOpaque + "&grant_type=refresh_token", "refresh_token=" + red(tokenOpaque, "") + "&grant_type=refresh_token"},
		{"oauth answer", `{"access_token":"` + tokenJWT + `","token_type":"Bearer","id_token":"` + tokenOpaque + `"}`,
			`{"access_token":"` + red(tokenJWT, "") + `","token_type":"Bearer","id_token":"` + red(tokenOpaque, "") + `"}`},
		{"cookie name", `"Cookie":["theme=dark; apikey=` + keyAzure + `"]`, `"Cookie":["theme=dark; apikey=` + red(keyAzure, "") + `"]`},
		{"cookie key shape", `"Cookie":["s=` + keyProj + `; theme=dark"]`, `"Cookie":["s=` + red(keyProj, "sk-proj-") + `; theme=dark"]`},
		{"groq header", `"X-Groq-Key":["` + keyGroq + `"]`, `"X-Groq-Key":["` + red(keyGroq, "gsk_") + `"]`},
		{"name after bearer", "Bearer X-Api-Key: " + keyAzure, "Bearer " + red("X-Api-Key", "") + ": " + red(keyAzure, "")},
		{"name as bearer word", `bearer x-api-key:["` + keyAzure + `","abc"] key=` + tokenOpaque,
			`bearer x-api-key:["` + red(keyAzure, "") + `","` + red("abc", "") + `"] key=` + red(tokenOpaque, "")},
		{"parameter after bearer", "Bearer access_token=" + tokenJWT, "Bearer " + red("access_token", "") + "=" + red(tokenJWT, "")},
		{"name as a value", "key= X-Auth-Token: " + tokenOpaque, "key= " + red("X-Auth-Token", "") + ": " + red(tokenOpaque, "")},
		{"padding then a field", "key=dGVzdDEyMzQ= user=bob", "key=" + red("dGVzdDEyMzQ=", "") + " user=bob"},
		{"array after bearer", `Bearer X-Api-Key:["` + keyAzure + `","abc"]`,
			"Bearer " + red("X-Api-Key", "") + `:["` + red(keyAzure, "") + `","` + red("abc", "") + `"]`},
		{"groq prose", "my key " + keyGroq + " leaked", "my key " + red(keyGroq, "gsk_") + " leaked"},
	})
}

// TestEscapedKeys: a key written with escapes (percent-encoding, JSON
// \u escapes, each once or twice, in any case) is replaced where it
// stands, with the fingerprint of the key itself.
func TestEscapedKeys(t *testing.T) {
	pct := func(s string, enc string) string { return strings.ReplaceAll(s, "-", enc) }
	checkScrubCases(t, Default(), []scrubCase{
		{"percent dash", "/v1?model=" + pct(keyProj, "%2D"), "/v1?model=sk%2Dproj%2D" + red(keyProj, "")[len(""):]},
		{"percent lower", "/v1?m=" + pct(keyProj, "%2d"), "/v1?m=sk%2dproj%2d" + red(keyProj, "")},
		{"percent twice", "/v1?m=" + pct(keyProj, "%252D"), "/v1?m=sk%252Dproj%252D" + red(keyProj, "")},
		{"percent every byte", "/v1/%73%6B%2D" + keyLiteLLM[3:] + "/x", "/v1/%73%6B%2D" + red(keyLiteLLM, "") + "/x"},
		{"percent google", "/x?q=%41Iza" + keyGoogle[4:], "/x?q=%41Iza" + red(keyGoogle, "")},
		{"percent name", "/x?api%5Fkey=" + keyAzure, "/x?api%5Fkey=" + red(keyAzure, "")},
		{"json dash", `{"msg":"` + strings.ReplaceAll(keyAnt, "-", `\u002d`) + `"}`,
			`{"msg":"sk\u002dant\u002dapi03\u002d` + red(keyAnt, "") + `"}`},
		{"json in json", `{"body":"{\"k\":\"` + strings.ReplaceAll(keyAnt, "-", `\\u002D`) + `\"}"}`,
			`{"body":"{\"k\":\"sk\\u002Dant\\u002Dapi03\\u002D` + red(keyAnt, "") + `\"}"}`},
		{"json name", `{"x\u002dapi\u002dkey":"hunter2"}`, `{"x\u002dapi\u002dkey":"` + red("hunter2", "") + `"}`},
	})
}

// TestEscapedNearMisses: escapes of other bytes, and names that only
// look like credential names, leave a line as it is.
func TestEscapedNearMisses(t *testing.T) {
	for _, in := range []string{
		"/v1/files?path=%2Ftmp%2Fa%20b&q=100%25",
		`{"msg":"caf\u00e9 \"quoted\" \\ \n"}`,
		`{"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42},"max_tokens":100}`,
		`{"logprobs":{"content":[{"token":"Hello","logprob":-0.31,"bytes":[72,101]}]}}`,
		"token=abc",
		"the tokenizer splits tokens; token_type=bearer",
		"gsk_short",
		"%2D%5F%41",
		"user=dGVzdDEyMzQ= name=bob",
		`\u002d\u005f`,
	} {
		out, changed := Default().Bytes(nil, []byte(in))
		if changed || string(out) != in {
			t.Errorf("changed %q to %q", in, out)
		}
	}
}

// TestEscapedWithPatterns: extra patterns see the decoded view too, and
// their secrets and the built-in ones, found in both the text and its
// view, are each replaced once.
func TestEscapedWithPatterns(t *testing.T) {
	s, err := New(`hf_[A-Za-z0-9]{30,}`, `(?i)password=([^&\s]+)`)
	if err != nil {
		t.Fatal(err)
	}
	hf := "hf_" + fake("hf", 34, alnum)
	in := "/x?a=hf%5F" + hf[3:] + "&password=hunter%32&m=" + strings.ReplaceAll(keyProj, "-", "%2D") + " " + keyProj
	want := "/x?a=hf%5F" + red(hf, "") + "&password=" + red("hunter2", "") + "&m=sk%2Dproj%2D" + red(keyProj, "") + " " + red(keyProj, "sk-proj-")
	// No second pass: the password pattern matches a marker too.
	if got := s.String(in); got != want {
		t.Fatalf("\n in: %s\ngot: %s\nwant: %s", in, got, want)
	}
}
