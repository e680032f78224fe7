package usage

import (
	"strings"
	"testing"
)

// Answers as the providers send them.
const (
	chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"pong","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,` +
		`"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},` +
		`"system_fingerprint":"fp_1"}`
	embeddingAnswer = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093,0.0158]}],` +
		`"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`
	responsesAnswer = `{"id":"resp_1","object":"response","created_at":1741476542,"status":"completed","model":"gpt-4.1",` +
		`"output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant",` +
		`"content":[{"type":"output_text","text":"In a peaceful grove...","annotations":[]}]}],` +
		`"reasoning":{"effort":null,"summary":null},"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},` +
		`"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123},"user":null,"metadata":{}}`
	anthropicAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",` +
		`"content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,` +
		`"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":15,` +
		`"cache_creation":{"ephemeral_5m_input_tokens":100}}}`
)

func TestFromJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Usage
		ok   bool
	}{
		{"chat completion", chatAnswer, Usage{Input: 12, Output: 3, Total: 15, Model: "gpt-4o-mini"}, true},
		{"embeddings", embeddingAnswer, Usage{Input: 8, Output: 0, Total: 8, Model: "text-embedding-3-small"}, true},
		{"responses api", responsesAnswer, Usage{Input: 36, Output: 87, Total: 123, Model: "gpt-4.1"}, true},
		{"anthropic counts cached input", anthropicAnswer, Usage{Input: 2125, CacheWrite: 100, CacheRead: 2000, Output: 15, Total: 2140, Model: "claude-sonnet-4-5"}, true},
		{"total beyond the parts", `{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":10}}`, Usage{Input: 1, Output: 2, Total: 10}, true},
		{"total alone", `{"usage":{"total_tokens":10}}`, Usage{Input: 0, Output: 0, Total: 10}, true},
		{"whitespace everywhere", " {\n \"usage\" : {\t\"prompt_tokens\" : 4 ,\r\n\"completion_tokens\":5 } } \n", Usage{Input: 4, Output: 5, Total: 9}, true},
		{"null counts are absent", `{"usage":{"prompt_tokens":4,"completion_tokens":null}}`, Usage{Input: 4, Output: 0, Total: 4}, true},
		{"the last usage counts", `{"usage":{"prompt_tokens":1,"completion_tokens":1},"usage":{"prompt_tokens":7}}`, Usage{Input: 7, Output: 0, Total: 7}, true},

		// The word usage elsewhere is not the answer's usage.
		{"usage in content", `{"choices":[{"message":{"content":"usage: {\"prompt_tokens\": 999}"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`, Usage{Input: 1, Output: 2, Total: 3}, true},
		{"usage in tool arguments", `{"choices":[{"message":{"tool_calls":[{"function":{"arguments":{"usage":{"prompt_tokens":999}}}}]}}]}`, Usage{}, false},
		{"usage in a nested object", `{"metadata":{"usage":{"prompt_tokens":999}},"usage":{"prompt_tokens":1}}`, Usage{Input: 1, Output: 0, Total: 1}, true},
		{"usage after the answer's", `{"usage":{"prompt_tokens":1},"choices":[{"usage":{"prompt_tokens":999}}]}`, Usage{Input: 1, Output: 0, Total: 1}, true},
		{"usage inside usage", `{"usage":{"prompt_tokens":1,"details":{"usage":{"prompt_tokens":999},"prompt_tokens":998}}}`, Usage{Input: 1, Output: 0, Total: 1}, true},
		{"usage as a member name's text", `{"usage\"":{"prompt_tokens":999}}`, Usage{}, false},
		{"usage as a string value", `{"note":"usage","x":{"prompt_tokens":999}}`, Usage{}, false},
		{"escaped backslash ends a string", `{"a":"\\","usage":{"prompt_tokens":3}}`, Usage{Input: 3, Output: 0, Total: 3}, true},
		{"usage in a list", `{"usage":[{"prompt_tokens":999}]}`, Usage{}, false},
		{"message usage", `{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}`, Usage{Input: 5, Output: 1, Total: 6}, true},
		{"usage too deep", `{"a":{"b":{"usage":{"prompt_tokens":999}}}}`, Usage{}, false},

		// Bad bodies report no usage.
		{"empty", ``, Usage{}, false},
		{"not json", `upstream connect error`, Usage{}, false},
		{"html", `<html>502</html>`, Usage{}, false},
		{"a list", `[{"usage":{"prompt_tokens":1}}]`, Usage{}, false},
		{"no usage", `{"id":"x","choices":[]}`, Usage{}, false},
		{"usage null", `{"usage":null}`, Usage{}, false},
		{"usage empty", `{"usage":{}}`, Usage{}, false},
		{"only unknown counts", `{"usage":{"reasoning_tokens":5}}`, Usage{}, false},
		{"negative", `{"usage":{"prompt_tokens":-1,"completion_tokens":2}}`, Usage{}, false},
		{"fraction", `{"usage":{"prompt_tokens":1.5}}`, Usage{}, false},
		{"exponent", `{"usage":{"prompt_tokens":1e3}}`, Usage{}, false},
		{"string count", `{"usage":{"prompt_tokens":"12"}}`, Usage{}, false},
		{"boolean count", `{"usage":{"prompt_tokens":true}}`, Usage{}, false},
		{"too large", `{"usage":{"prompt_tokens":1234567890123456789}}`, Usage{}, false},
		{"trailing garbage", `{"usage":{"prompt_tokens":1}}x`, Usage{}, false},
		{"two values", `{"usage":{"prompt_tokens":1}}{}`, Usage{}, false},
		{"unclosed string", `{"usage":{"prompt_tokens":1},"x":"abc`, Usage{}, false},
		{"stray close", `{"usage":{"prompt_tokens":1}}}`, Usage{}, false},
		{"control byte", "{\"usage\":{\"prompt_tokens\":1}\x00}", Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromJSON([]byte(tt.body))
			if got != tt.want || ok != tt.ok {
				t.Fatalf("FromJSON = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFromJSONTruncated(t *testing.T) {
	for _, body := range []string{chatAnswer, embeddingAnswer, responsesAnswer, anthropicAnswer} {
		for n := range len(body) {
			if u, ok := FromJSON([]byte(body[:n])); ok {
				t.Fatalf("%d of %d bytes read as %+v: %q", n, len(body), u, body[:n])
			}
		}
	}
}

func TestDecodedLen(t *testing.T) {
	tests := []struct {
		raw  string
		want int64
	}{
		{``, 0},
		{`hello`, 5},
		{`a\nb`, 3},
		{`\"quoted\"`, 8},
		{`caf\u00e9`, 6},
		{`\\`, 1},
		{`\u`, 0}, // malformed: never below zero
		{strings.Repeat("é", 3), 6},
	}
	for _, tt := range tests {
		if got := decodedLen([]byte(tt.raw)); got != tt.want {
			t.Errorf("decodedLen(%q) = %d, want %d", tt.raw, got, tt.want)
		}
	}
}

// TestFromJSONModel: the model is the answer's own, never one named in
// its text or deeper members; escapes are decoded.
func TestFromJSONModel(t *testing.T) {
	const use = `"usage":{"prompt_tokens":1,"completion_tokens":1}`
	tests := []struct{ body, want string }{
		{`{"model":"gpt-4o-2024-08-06",` + use + `}`, "gpt-4o-2024-08-06"},
		{`{"type":"response.completed","response":{"model":"gpt-4.1",` + use + `}}`, "gpt-4.1"},
		{`{"model":"gpt\u002d4o",` + use + `}`, "gpt-4o"},
		{`{"choices":[{"message":{"content":"{\"model\":\"made-up\"}"}}],"meta":{"model":"deep"},` + use + `}`, ""},
		{`{"model":["gpt-4o"],` + use + `}`, ""},
	}
	for _, tt := range tests {
		if u, ok := FromJSON([]byte(tt.body)); !ok || u.Model != tt.want {
			t.Errorf("FromJSON(%s): model %q (ok %v), want %q", tt.body, u.Model, ok, tt.want)
		}
	}
}

// TestAnswerReadsWhatFromJSONReads feeds answers in pieces of every size
// and compares with FromJSON on the whole. Each Answer is released after,
// so the next may reuse its buffers: what an Answer reads owes nothing to
// the answers before it.
func TestAnswerReadsWhatFromJSONReads(t *testing.T) {
	for _, body := range []string{
		`{"id":"x","choices":[{"message":{"content":"\"usage\":{\"total_tokens\":999}"}}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"message":{"content":"\"model\":\"made-up\""}}],"usage":{"prompt_tokens":1,"completion_tokens":1},"model":"gpt\u002d4o"}`,
		`{"usage":{"input_tokens":5,"output_tokens":7,"cache_read_input_tokens":2},"type":"message"}`,
		`{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2,"completion_tokens":3}}`,
		`{"usage":{"prompt_tokens":"1"}}`,
		`{"usage":null}`,
		`{"usage":{"prompt_tokens":1}`,
		`{"choices":[]}`,
		`[{"usage":{"prompt_tokens":1}}]`,
	} {
		want, wantOK := FromJSON([]byte(body))
		for piece := 1; piece <= len(body); piece++ {
			a := NewAnswer(0)
			for b := []byte(body); len(b) > 0; {
				k := min(piece, len(b))
				_, _ = a.Write(b[:k])
				b = b[k:]
			}
			got, ok := a.Usage()
			a.Release()
			if ok != wantOK || ok && got != want {
				t.Fatalf("pieces of %d: %+v %v, FromJSON %+v %v for %s", piece, got, ok, want, wantOK, body)
			}
		}
	}
}

// TestAnswerWithoutUsageIsEstimated: an answer cut short before its usage
// (its client left) or without one is charged its prompt and its text, as
// a stream is, not nothing.
func TestAnswerWithoutUsageIsEstimated(t *testing.T) {
	for _, body := range []string{
		`{"choices":[{"message":{"content":"` + strings.Repeat("abcd", 1000) + `"}}],"usage":{"prompt_tok`,
		`{"choices":[{"message":{"content":"` + strings.Repeat("abcd", 1000) + `"}}]}`,
	} {
		a := NewAnswer(7)
		_, _ = a.Write([]byte(body))
		u, exact := a.Usage()
		if exact || u.Input != 7 || u.Output < 1000 || u.Output > 1010 || u.Total != u.Input+u.Output {
			t.Errorf("%.60s…: %+v exact %v, want 7 in and about 1,000 out, estimated", body, u, exact)
		}
	}
}
