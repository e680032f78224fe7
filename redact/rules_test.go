package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBuiltinRules(t *testing.T) {
	var cases []scrubCase
	for _, k := range allKeys {
		cases = append(cases,
			scrubCase{k.name + "/prose", "Incorrect API key provided: " + k.key + ".",
				"Incorrect API key provided: " + red(k.key, k.keep) + "."},
			scrubCase{k.name + "/start", k.key, red(k.key, k.keep)},
			scrubCase{k.name + "/env", "OPENAI_API_KEY=" + k.key + "\n", "OPENAI_API_KEY=" + red(k.key, k.keep) + "\n"},
			scrubCase{k.name + "/quoted", `"` + k.key + `"`, `"` + red(k.key, k.keep) + `"`},
		)
	}
	cases = append(cases, []scrubCase{
		// sk- keys inside words need an unmistakable shape.
		{"legacy glued", "x" + keyLegacy, "x" + red(keyLegacy, "sk-")},
		{"proj glued", "key" + keyProj, "key" + red(keyProj, "sk-proj-")},
		{"after escape", `a\n` + keyLiteLLM, `a\n` + red(keyLiteLLM, "sk-")},
		{"after unicode escape", `\u003c` + keyLiteLLM, `\u003c` + red(keyLiteLLM, "sk-")},
		{"after percent escape", `%20` + keyLiteLLM, `%20` + red(keyLiteLLM, "sk-")},
		{"sk- 20 chars", "sk-" + strings.Repeat("a", 20), red("sk-"+strings.Repeat("a", 20), "sk-")},

		// Bearer tokens.
		{"bearer jwt", "Authorization failed for Bearer " + tokenJWT, "Authorization failed for Bearer " + red(tokenJWT, "")},
		{"bearer lower", "bearer " + tokenOpaque, "bearer " + red(tokenOpaque, "")},
		{"bearer upper", "BEARER  " + tokenOpaque + " x", "BEARER  " + red(tokenOpaque, "") + " x"},
		{"bearer sk key", "Bearer " + keyProj, "Bearer " + red(keyProj, "sk-proj-")},
		{"bearer padding", "Bearer abc123DEF456==", "Bearer " + red("abc123DEF456==", "")},
		{"bearer lowercase gateway key", "bearer sk-" + strings.Repeat("q", 24), "bearer " + red("sk-"+strings.Repeat("q", 24), "sk-")},

		// Header values in Caddy's JSON access log.
		{"caddy x-api-key", `"X-Api-Key":["` + keyAnt + `"]`, `"X-Api-Key":["` + red(keyAnt, "sk-ant-api03-") + `"]`},
		{"caddy api-key azure", `"Api-Key":["` + keyAzure + `"]`, `"Api-Key":["` + red(keyAzure, "") + `"]`},
		{"caddy goog", `"X-Goog-Api-Key":["` + keyGoogle + `"]`, `"X-Goog-Api-Key":["` + red(keyGoogle, "AIza") + `"]`},
		{"caddy short value", `"X-Api-Key":["abc"]`, `"X-Api-Key":["` + red("abc", "") + `"]`},
		{"caddy two values", `"X-Api-Key":["abc", "def"]`, `"X-Api-Key":["` + red("abc", "") + `", "` + red("def", "") + `"]`},
		{"caddy authorization", `"Authorization":["Bearer ` + tokenOpaque + `"]`, `"Authorization":["Bearer ` + red(tokenOpaque, "") + `"]`},
		{"caddy authorization basic", `"Authorization":["Basic dXNlcjpwYXNz"]`, `"Authorization":["Basic ` + red("dXNlcjpwYXNz", "") + `"]`},
		{"caddy authorization no scheme", `"Authorization":["tok"]`, `"Authorization":["` + red("tok", "") + `"]`},
		{"caddy proxy-authorization", `"Proxy-Authorization":["Basic Zm9vOmJhcg=="]`, `"Proxy-Authorization":["Basic ` + red("Zm9vOmJhcg==", "") + `"]`},
		{"caddy already redacted", `"Authorization":["REDACTED"]`, `"Authorization":["REDACTED"]`},
		{"json string value", `{"x-api-key": "` + keyAzure + `"}`, `{"x-api-key": "` + red(keyAzure, "") + `"}`},
		{"json api_key", `{"api_key":"hunter2"}`, `{"api_key":"` + red("hunter2", "") + `"}`},
		{"json apiKey", `{"apiKey":"hunter2"}`, `{"apiKey":"` + red("hunter2", "") + `"}`},
		{"escaped json", `"{\"x-api-key\":\"` + keyAzure + `\"}"`, `"{\"x-api-key\":\"` + red(keyAzure, "") + `\"}"`},
		{"escaped array", `"{\"X-Api-Key\":[\"a1\",\"b2\"]}"`, `"{\"X-Api-Key\":[\"` + red("a1", "") + `\",\"` + red("b2", "") + `\"]}"`},
		{"python repr", `{'api_key': 'hunter2'}`, `{'api_key': '` + red("hunter2", "") + `'}`},

		// Header values in text.
		{"text x-api-key", "x-api-key: " + keyAzure + "\r\n", "x-api-key: " + red(keyAzure, "") + "\r\n"},
		{"text authorization", "Authorization: Basic dXNlcjpwYXNz\r\n", "Authorization: Basic " + red("dXNlcjpwYXNz", "") + "\r\n"},
		{"go header map", "map[Authorization:[Bearer " + tokenOpaque + "] X-Api-Key:[" + keyAzure + "]]",
			"map[Authorization:[Bearer " + red(tokenOpaque, "") + "] X-Api-Key:[" + red(keyAzure, "") + "]]"},

		// Query parameters.
		{"query key", `"uri":"/v1beta/models?key=` + keyGoogle + `&alt=sse"`, `"uri":"/v1beta/models?key=` + red(keyGoogle, "AIza") + `&alt=sse"`},
		{"query api_key", "GET /x?api_key=" + keyAzure + " HTTP/1.1", "GET /x?api_key=" + red(keyAzure, "") + " HTTP/1.1"},
		{"query api-key", "/x?a=1&api-key=" + keyAzure + "#f", "/x?a=1&api-key=" + red(keyAzure, "") + "#f"},
		{"query key opaque", "?key=abc123xyz", "?key=" + red("abc123xyz", "")},
		{"form access_key", "access_key=" + tokenOpaque, "access_key=" + red(tokenOpaque, "")},

		// Google keys on their own.
		{"google in url path", "/v1/x/" + keyGoogle + "/y", "/v1/x/" + red(keyGoogle, "AIza") + "/y"},
	}...)
	checkScrubCases(t, Default(), cases)
}

func TestNearMisses(t *testing.T) {
	cases := []string{
		"the task-list is long",
		"ask-me-anything",
		"a risk-free desk-top plan",
		"risk-assessment-framework-for-2024-and-beyond",
		"sk-" + strings.Repeat("a", 19),
		"sk-short and sk-",
		// base64 that is no key, with "sk-" and "AIza" glued inside words.
		"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk-sk-YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
		"dGhpc0lzTm90QUtleUFJemFTeUJ0aGF0SXNKdXN0QmFzZTY0QmxvYnM=xAIza" + strings.Repeat("b", 40),
		"AIza" + strings.Repeat("c", 34),
		"key=",
		"key= ",
		"?key=&x=1",
		"primary key=id",
		"monkey=" + tokenOpaque,
		`{"key":"2f1c0a9e"}`,
		`{"api_key":null,"x-api-key":42}`,
		"the bearer of bad news",
		"bearer tokens are sent by the bearer instrument holder",
		"Bearer Authentication",
		"bearer token-based-auth",
		"authorization: required",
		"x-api-key: missing",
		"Sec-Websocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
		`"Sec-Websocket-Key":["dGhlIHNhbXBsZSBub25jZQ=="]`,
		"Incorrect API key provided: sk-proj-********************abcd.",
		"apikey",
		"",
	}
	for _, in := range cases {
		out, changed := Default().Bytes(nil, []byte(in))
		if changed || string(out) != in {
			t.Errorf("changed %q to %q", in, out)
		}
	}
}

func TestFingerprintStable(t *testing.T) {
	a := Default().String("x-api-key: " + keyAnt)
	b := Default().String(`{"msg":"Bearer ` + keyAnt + `"}`)
	want := red(keyAnt, "sk-ant-api03-")
	if !strings.Contains(a, want) || !strings.Contains(b, want) {
		t.Fatalf("fingerprints differ: %s / %s, want %s", a, b, want)
	}
	if fp(keyProj) == fp(keySvcacct) {
		t.Fatal("test keys share a fingerprint; pick other seeds")
	}
}

func TestIdempotent(t *testing.T) {
	for _, k := range allKeys {
		for _, in := range []string{
			"key=" + k.key,
			"Bearer " + k.key,
			`"X-Api-Key":["` + k.key + `"]`,
			"x-api-key: " + k.key,
			`"Authorization":["Bearer ` + k.key + `"]`,
			"map[Authorization:[Bearer " + k.key + "]]",
		} {
			once := Default().String(in)
			if twice := Default().String(once); twice != once {
				t.Errorf("second pass changed %q to %q", once, twice)
			}
		}
	}
}

func TestBytesAppends(t *testing.T) {
	dst := []byte("prefix|")
	out, changed := Default().Bytes(dst, []byte("k="+keyProj))
	if !changed || string(out) != "prefix|k="+red(keyProj, "sk-proj-") {
		t.Fatalf("got %q, %v", out, changed)
	}
	src := []byte("nothing here")
	out, changed = Default().Bytes(dst, src)
	if changed || &out[0] != &src[0] {
		t.Fatalf("unchanged input not returned as is: %q, %v", out, changed)
	}
}

func TestNilAndZeroScrubber(t *testing.T) {
	var nilS *Scrubber
	var zero Scrubber
	in := "Bearer " + tokenOpaque
	want := "Bearer " + red(tokenOpaque, "")
	if got := nilS.String(in); got != want {
		t.Fatalf("nil scrubber: %q", got)
	}
	if got := zero.String(in); got != want {
		t.Fatalf("zero scrubber: %q", got)
	}
}

func TestNoAllocsWithoutSecret(t *testing.T) {
	line := []byte(accessLine(""))
	// Escapes of key bytes send a line through a decoded view.
	escaped := []byte(strings.Replace(accessLine(""), "/v1/chat/completions", "/v1/chat/completions?q=%41%42", 1))
	s, err := New(`hf_[A-Za-z0-9]{30,}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []*Scrubber{Default(), s} {
		for _, l := range [][]byte{line, escaped} {
			if n := testing.AllocsPerRun(100, func() { sc.Bytes(nil, l) }); n != 0 {
				t.Fatalf("%v allocations for a line without secret: %s", n, l)
			}
		}
	}
	str := string(line)
	if n := testing.AllocsPerRun(100, func() { Default().String(str) }); n != 0 {
		t.Fatalf("String: %v allocations", n)
	}
}

// adversarialInputs make a naive scanner rescan the same bytes for every
// anchor, so that its time grows with the square of the size.
// BenchmarkAdversarial reports their throughput, which stays that of
// ordinary text when the scan is linear.
func adversarialInputs(n int) map[string]string {
	return map[string]string{
		"sk-chain":      strings.Repeat("xsk-", n/4),
		"aiza-chain":    strings.Repeat("xAIza", n/5),
		"name-chain":    strings.Repeat("api-key=", n/8),
		"bearer-chain":  strings.Repeat("bearer ", n/7),
		"key-chain":     strings.Repeat("-key=", n/5),
		"quoted-chain":  `"X-Api-Key":["` + strings.Repeat(`a","`, n/4),
		"authz-chain":   strings.Repeat("authorization: Bearer ", n/22),
		"json-chain":    `{"a":"` + strings.Repeat(`api_key: \"x\" `, n/16) + `"}`,
		"backslashes":   `{"a":"` + strings.Repeat(`\\`, n/2) + `"}`,
		"percent-chain": strings.Repeat("sk%2D%", n/6),
		"percent-25":    "%" + strings.Repeat("25", n/2),
		"unicode-chain": `{"a":"` + strings.Repeat(`\\\u002dx`, n/8) + `"}`,
		"backslash-u":   `{"a":"` + strings.Repeat(`\\`, n/2) + `u002"}`,
		"escaped-names": strings.Repeat("api%5Fkey=tok%2Den12345678 ", n/28),
	}
}

// adversarialExtra has patterns that match often, and inside runs of
// backslashes.
var adversarialExtra = func() *Scrubber {
	s, err := New(`hf_[a-z]+`, `"(\d+)"`, `[^"]{40}`)
	if err != nil {
		panic(err)
	}
	return s
}()

func TestAdversarialInputs(t *testing.T) {
	for name, in := range adversarialInputs(1 << 16) {
		t.Run(name, func(t *testing.T) {
			once, _ := Default().Bytes(nil, []byte(in))
			if twice, _ := Default().Bytes(nil, once); string(twice) != string(once) {
				t.Fatal("second pass changed the output")
			}
			out, _ := adversarialExtra.Bytes(nil, []byte(in))
			if json.Valid([]byte(in)) && !json.Valid(out) {
				t.Fatal("output is not JSON")
			}
		})
	}
}
