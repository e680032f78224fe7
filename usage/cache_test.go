package usage

import (
	"strings"
	"testing"
)

// Answers whose prompt was served in part from the providers' caches, as
// they send them.
const (
	chatCachedAnswer = `{"id":"chatcmpl-2","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"pong","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
		`"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}`
	responsesCachedAnswer = `{"id":"resp_2","object":"response","created_at":1741476542,"status":"completed","model":"gpt-4.1",` +
		`"output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],` +
		`"usage":{"input_tokens":4096,"input_tokens_details":{"cached_tokens":3840},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":4108}}`
	anthropicCachedAnswer = `{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5",` +
		`"content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,` +
		`"usage":{"input_tokens":50,"cache_creation_input_tokens":1024,"cache_read_input_tokens":4096,` +
		`"cache_creation":{"ephemeral_5m_input_tokens":1024,"ephemeral_1h_input_tokens":0},"output_tokens":20,"service_tier":"standard"}}`
)

func TestFromJSONCache(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Usage
	}{
		{"chat completion", chatCachedAnswer, Usage{Input: 2006, CachedInput: 1920, Output: 300, Total: 2306, Model: "gpt-4o-2024-08-06"}},
		{"responses api", responsesCachedAnswer, Usage{Input: 4096, CachedInput: 3840, Output: 12, Total: 4108, Model: "gpt-4.1"}},
		{"anthropic", anthropicCachedAnswer, Usage{Input: 5170, CacheWrite: 1024, CacheRead: 4096, Output: 20, Total: 5190, Model: "claude-sonnet-4-5"}},
		{"nothing cached", chatAnswer, Usage{Input: 12, Output: 3, Total: 15, Model: "gpt-4o-mini"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := FromJSON([]byte(tt.body)); !ok || got != tt.want {
				t.Fatalf("FromJSON = %+v, %v; want %+v", got, ok, tt.want)
			}
		})
	}
}

// TestFromJSONCacheHostile: only a cached_tokens count of the last details
// object of the answer's own usage is taken, and never as more than the
// prompt; anything else about the cache reads as nothing cached, which
// prices the prompt in full, while the answer's other counts still hold.
func TestFromJSONCacheHostile(t *testing.T) {
	// openai wraps members of a usage object of 100 prompt tokens.
	openai := func(members string) string {
		return `{"usage":{"prompt_tokens":100,"completion_tokens":10,` + members + `}}`
	}
	tests := []struct {
		name   string
		body   string
		cached int64
	}{
		{"details first", `{"usage":{"prompt_tokens_details":{"cached_tokens":90},"prompt_tokens":100,"completion_tokens":10}}`, 90},
		{"details twice, the last without a count", openai(`"prompt_tokens_details":{"cached_tokens":90},"prompt_tokens_details":{"audio_tokens":0}`), 0},
		{"details twice, the last counts", openai(`"prompt_tokens_details":{"cached_tokens":90},"prompt_tokens_details":{"cached_tokens":30}`), 30},
		{"details of both apis: the last counts", openai(`"input_tokens_details":{"cached_tokens":90},"prompt_tokens_details":{"cached_tokens":30}`), 30},
		{"details as a string", openai(`"prompt_tokens_details":"{\"cached_tokens\":90}"`), 0},
		{"details given again as a string", openai(`"prompt_tokens_details":{"cached_tokens":90},"prompt_tokens_details":"x"`), 0},
		{"details null", openai(`"prompt_tokens_details":{"cached_tokens":90},"prompt_tokens_details":null`), 0},
		{"details as a number", openai(`"prompt_tokens_details":90`), 0},
		{"details as a list", openai(`"prompt_tokens_details":[{"cached_tokens":90}]`), 0},
		{"count null", openai(`"prompt_tokens_details":{"cached_tokens":90,"cached_tokens":null}`), 0},
		{"count after null", openai(`"prompt_tokens_details":{"cached_tokens":null,"cached_tokens":40}`), 40},
		{"count negative", openai(`"prompt_tokens_details":{"cached_tokens":-90}`), 0},
		{"count as a string", openai(`"prompt_tokens_details":{"cached_tokens":"90"}`), 0},
		{"count fraction", openai(`"prompt_tokens_details":{"cached_tokens":9.5}`), 0},
		{"count exponent", openai(`"prompt_tokens_details":{"cached_tokens":1e2}`), 0},
		{"count boolean", openai(`"prompt_tokens_details":{"cached_tokens":true}`), 0},
		{"count as an object", openai(`"prompt_tokens_details":{"cached_tokens":90,"cached_tokens":{"n":90}}`), 0},
		{"count as a list", openai(`"prompt_tokens_details":{"cached_tokens":[90]}`), 0},
		{"count beyond the prompt", openai(`"prompt_tokens_details":{"cached_tokens":500}`), 100},
		{"count huge", openai(`"prompt_tokens_details":{"cached_tokens":999999999999999999}`), 100},
		{"count beyond 18 digits", openai(`"prompt_tokens_details":{"cached_tokens":1000000000000000000}`), 0},
		{"count in the usage object", openai(`"cached_tokens":90`), 0},
		{"count too deep", openai(`"prompt_tokens_details":{"x":{"cached_tokens":90}}`), 0},
		{"count in a list in the details", openai(`"prompt_tokens_details":{"x":[{"cached_tokens":90}]}`), 0},
		{"count in the output details", openai(`"completion_tokens_details":{"cached_tokens":90}`), 0},
		{"count with an escaped name", openai(`"prompt_tokens_details":{"cached\u005ftokens":90}`), 0},
		{"details with an escaped name", openai(`"prompt_tokens\u005fdetails":{"cached_tokens":90}`), 0},
		{"details in text", `{"choices":[{"message":{"content":"\"prompt_tokens_details\":{\"cached_tokens\":90}"}}],` + openai(`"x":0`)[1:], 0},
		{"details outside the usage", `{"prompt_tokens_details":{"cached_tokens":90},` + openai(`"x":0`)[1:], 0},
		{"details after the usage", openai(`"x":0`)[:len(openai(`"x":0`))-1] + `,"prompt_tokens_details":{"cached_tokens":90}}`, 0},
		{"details in a nested usage", `{"metadata":{"usage":{"prompt_tokens_details":{"cached_tokens":90}}},` + openai(`"x":0`)[1:], 0},
		{"details of an earlier usage", `{"usage":{"prompt_tokens_details":{"cached_tokens":90}},` + openai(`"x":0`)[1:], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromJSON([]byte(tt.body))
			want := Usage{Input: 100, CachedInput: tt.cached, Output: 10, Total: 110}
			if !ok || got != want {
				t.Fatalf("FromJSON(%s) = %+v, %v; want %+v", tt.body, got, ok, want)
			}
		})
	}
}

// TestCacheNeverExceedsInput: an answer that mixes both providers' counts
// still has its cached parts within its input.
func TestCacheNeverExceedsInput(t *testing.T) {
	body := `{"usage":{"input_tokens":10,"cache_read_input_tokens":1000,"cache_creation_input_tokens":5,` +
		`"output_tokens":1,"input_tokens_details":{"cached_tokens":1000}}}`
	want := Usage{Input: 1015, CachedInput: 10, CacheWrite: 5, CacheRead: 1000, Output: 1, Total: 1016}
	if got, ok := FromJSON([]byte(body)); !ok || got != want {
		t.Fatalf("FromJSON = %+v, %v; want %+v", got, ok, want)
	}
}

// TestAnswerCache: an answer fed in pieces reads the cache as FromJSON.
func TestAnswerCache(t *testing.T) {
	for _, body := range []string{chatCachedAnswer, responsesCachedAnswer, anthropicCachedAnswer} {
		want, _ := FromJSON([]byte(body))
		for _, piece := range []int{1, 7, 64, len(body)} {
			a := NewAnswer(0)
			for b := []byte(body); len(b) > 0; {
				k := min(piece, len(b))
				_, _ = a.Write(b[:k])
				b = b[k:]
			}
			got, exact := a.Usage()
			a.Release()
			if !exact || got != want {
				t.Fatalf("pieces of %d: %+v %v, want %+v", piece, got, exact, want)
			}
		}
	}
}

// Streamed answers with cached prompts.
var (
	chatCachedUsage = event{"", `{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",` +
		`"service_tier":"default","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,` +
		`"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}}`}
	respCachedDone = event{"response.completed", `{"type":"response.completed","response":{"id":"resp_2","status":"completed","model":"gpt-4.1",` +
		`"output":[{"type":"message","content":[{"type":"output_text","text":"Hello, world!"}]}],` +
		`"usage":{"input_tokens":4096,"input_tokens_details":{"cached_tokens":3840},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":4101}},"sequence_number":9}`}
	antCachedStart = event{"message_start", `{"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","content":[],` +
		`"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"cache_creation_input_tokens":1024,` +
		`"cache_read_input_tokens":4096,"cache_creation":{"ephemeral_5m_input_tokens":1024,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}`}
	// antCachedDelta repeats the running totals, as current answers do.
	antCachedDelta = event{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},` +
		`"usage":{"input_tokens":50,"cache_creation_input_tokens":1024,"cache_read_input_tokens":4096,"output_tokens":20,"server_tool_use":null}}`}
)

func TestStreamCache(t *testing.T) {
	const prompt = 40
	tests := []struct {
		name   string
		events []event
		want   Usage
		exact  bool
	}{
		{"openai", []event{chatRole, chatHello, chatStop, chatCachedUsage, chatDone},
			Usage{Input: 2006, CachedInput: 1920, Output: 300, Total: 2306, Model: "gpt-4o-mini"}, true},
		{"responses api", []event{respCreated, respDelta1, respCachedDone},
			Usage{Input: 4096, CachedInput: 3840, Output: 5, Total: 4101, Model: "gpt-4.1"}, true},
		{"anthropic", []event{antCachedStart, antBlock, antText1, antStop, antCachedDelta, antEnd},
			Usage{Input: 5170, CacheWrite: 1024, CacheRead: 4096, Output: 20, Total: 5190, Model: "claude-sonnet-4-5"}, true},
		{"anthropic delta without cache counts keeps the start's", []event{antCachedStart, antText1, antDelta},
			Usage{Input: 5170, CacheWrite: 1024, CacheRead: 4096, Output: 15, Total: 5185, Model: "claude-sonnet-4-5"}, true},
		{"anthropic delta totals replace the start's, never add", []event{antCachedStart,
			{"message_delta", `{"type":"message_delta","usage":{"cache_read_input_tokens":2048,"output_tokens":3}}`},
			{"message_delta", `{"type":"message_delta","usage":{"cache_read_input_tokens":3072,"output_tokens":9}}`}},
			Usage{Input: 4146, CacheWrite: 1024, CacheRead: 3072, Output: 9, Total: 4155, Model: "claude-sonnet-4-5"}, true},
		{"anthropic cut off keeps the start's cache", []event{antCachedStart, antText1},
			Usage{Input: 5170, CacheWrite: 1024, CacheRead: 4096, Output: 2, Total: 5172, Model: "claude-sonnet-4-5"}, false},
		{"cached without a prompt count is not taken", []event{{"", `{"choices":[],"usage":{"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":40}}}`}},
			Usage{Input: prompt, Output: 4, Total: prompt + 4}, false},
		{"cached beyond the prompt", []event{{"", `{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":400}}}`}},
			Usage{Input: 9, CachedInput: 9, Output: 4, Total: 13}, true},
		{"cached in streamed text is text", []event{chatChunk(`{"content":"{\"prompt_tokens_details\":{\"cached_tokens\":999}}"}`), chatUsage},
			Usage{Input: 9, Output: 4, Total: 13, Model: "gpt-4o-mini"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Stream{Prompt: prompt}
			for _, ev := range tt.events {
				s.Event(ev.name, []byte(ev.data))
			}
			got, exact := s.Usage()
			if got != tt.want || exact != tt.exact {
				t.Fatalf("Usage = %+v, %v; want %+v, %v", got, exact, tt.want, tt.exact)
			}
		})
	}
}

// TestFromStreamCache reads the cache counts of whole stored streams.
func TestFromStreamCache(t *testing.T) {
	wire := func(evs ...event) []byte {
		var b strings.Builder
		for _, ev := range evs {
			if ev.name != "" {
				b.WriteString("event: " + ev.name + "\n")
			}
			b.WriteString("data: " + ev.data + "\n\n")
		}
		return []byte(b.String())
	}
	for _, tc := range []struct {
		name string
		body []byte
		want Usage
	}{
		{"openai", wire(chatRole, chatHello, chatStop, chatCachedUsage, chatDone), Usage{Input: 2006, CachedInput: 1920, Output: 300, Total: 2306, Model: "gpt-4o-mini"}},
		{"responses api", wire(respCreated, respDelta1, respCachedDone), Usage{Input: 4096, CachedInput: 3840, Output: 5, Total: 4101, Model: "gpt-4.1"}},
		{"anthropic", wire(antCachedStart, antBlock, antText1, antStop, antCachedDelta, antEnd),
			Usage{Input: 5170, CacheWrite: 1024, CacheRead: 4096, Output: 20, Total: 5190, Model: "claude-sonnet-4-5"}},
	} {
		if got, exact := FromStream(tc.body); got != tc.want || !exact {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, exact, tc.want)
		}
	}
}
