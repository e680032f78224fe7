package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONLines scrubs Caddy access-log lines holding each key kind where
// logs put keys: header arrays, the query string, and an upstream error body
// logged as an escaped string nested once and twice.
func TestJSONLines(t *testing.T) {
	type place struct {
		name string
		line func(key string) string
	}
	places := []place{
		{"x-api-key header", func(k string) string { return accessLine(`"X-Api-Key":["` + k + `"],`) }},
		{"api-key header", func(k string) string { return accessLine(`"Api-Key":["` + k + `"],`) }},
		{"goog header", func(k string) string { return accessLine(`"X-Goog-Api-Key":["` + k + `"],`) }},
		{"authorization header", func(k string) string { return accessLine(`"Authorization":["Bearer ` + k + `"],`) }},
		{"query key", func(k string) string {
			return strings.Replace(accessLine(""), `"/v1/chat/completions"`, `"/v1beta/models/gemini:generateContent?key=`+k+`&alt=sse"`, 1)
		}},
		{"escaped error body", func(k string) string {
			body, _ := json.Marshal(`{"error":{"message":"Incorrect API key provided: ` + k + `. You can find your API key at https://platform.openai.com/account/api-keys."}}`)
			return `{"level":"error","msg":"upstream error","body":` + string(body) + "}\n"
		}},
		{"escaped header object", func(k string) string {
			inner, _ := json.Marshal(map[string]string{"x-api-key": k, "anthropic-version": "2023-06-01"})
			outer, _ := json.Marshal(string(inner))
			return `{"msg":"request","headers":` + string(outer) + "}\n"
		}},
		{"twice escaped", func(k string) string {
			inner, _ := json.Marshal(map[string]any{"headers": map[string][]string{"X-Api-Key": {k}}, "msg": "Bearer " + k})
			once, _ := json.Marshal(string(inner))
			twice, _ := json.Marshal(string(once))
			return `{"msg":"nested","payload":` + string(twice) + "}\n"
		}},
		{"error message", func(k string) string {
			msg, _ := json.Marshal("dial: GET https://generativelanguage.googleapis.com/v1/models?key=" + k + ": timeout\n\tat main.go:12")
			return `{"msg":"failed","error":` + string(msg) + "}\n"
		}},
	}
	keys := append(allKeys[:len(allKeys):len(allKeys)], struct{ name, key, keep string }{"azure", keyAzure, ""})
	for _, p := range places {
		for _, k := range keys {
			if k.keep == "" && (p.name == "escaped error body" || p.name == "error message") {
				continue // a bare hex key in prose has no shape to find
			}
			t.Run(p.name+"/"+k.name, func(t *testing.T) {
				line := p.line(k.key)
				if !json.Valid([]byte(line)) {
					t.Fatalf("test line is not JSON: %s", line)
				}
				out, changed := Default().Bytes(nil, []byte(line))
				if !changed || !json.Valid(out) {
					t.Fatalf("changed=%v valid=%v\n%s", changed, json.Valid(out), out)
				}
				assertGone(t, out, k.key, k.keep)
				if !strings.Contains(string(out), "[REDACTED:"+fp(k.key)+"]") {
					t.Fatalf("fingerprint %s of the key missing:\n%s", fp(k.key), out)
				}
			})
		}
	}
}

func TestJSONLineWithoutSecretUnchanged(t *testing.T) {
	line := []byte(accessLine(""))
	out, changed := Default().Bytes(nil, line)
	if changed || string(out) != string(line) {
		t.Fatalf("changed: %s", out)
	}
}
