package usage

import (
	"strings"
	"testing"
)

// event is one server-sent event.
type event struct {
	name, data string
}

// OpenAI chat completion chunks.
func chatChunk(delta string) event {
	return event{"", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":null}],"usage":null}`}
}

var (
	chatRole  = chatChunk(`{"role":"assistant","content":"","refusal":null}`)
	chatHello = chatChunk(`{"content":"Hello, "}`)
	chatWorld = chatChunk(`{"content":"world!\n"}`) // 7 bytes of text once decoded
	chatStop  = event{"", `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`}
	chatUsage = event{"", `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"completion_tokens_details":{"reasoning_tokens":0}}}`}
	chatDone = event{"", `[DONE]`}
	chatTool = chatChunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}`)
)

// Responses API events.
var (
	respCreated = event{"response.created", `{"type":"response.created","response":{"id":"resp_1","status":"in_progress","output":[],"usage":null},"sequence_number":0}`}
	respDelta1  = event{"response.output_text.delta", `{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello, ","sequence_number":4}`}
	respDelta2  = event{"response.output_text.delta", `{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"world!","sequence_number":5}`}
	respDone    = event{"response.output_text.done", `{"type":"response.output_text.done","item_id":"msg_1","output_index":0,"content_index":0,"text":"Hello, world!","sequence_number":6}`}
	respItem    = event{"response.output_item.done", `{"type":"response.output_item.done","output_index":0,"item":{"id":"msg_1","type":"message","content":[{"type":"output_text","text":"Hello, world!"}]},"sequence_number":8}`}
	respDoneAll = event{"response.completed", `{"type":"response.completed","response":{"id":"resp_1","status":"completed",` +
		`"output":[{"type":"message","content":[{"type":"output_text","text":"Hello, world!"}]}],` +
		`"usage":{"input_tokens":11,"input_tokens_details":{"cached_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":16}},"sequence_number":9}`}
	respAudio = event{"response.audio.delta", `{"type":"response.audio.delta","delta":"` + strings.Repeat("QUJD", 100) + `"}`}
)

// Anthropic message events.
var (
	antStart = event{"message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],` +
		`"model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":1}}}`}
	antBlock = event{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`}
	antPing  = event{"ping", `{"type": "ping"}`}
	antText1 = event{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, "}}`}
	antText2 = event{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"world! It is a long day."}}`}
	antJSON  = event{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"San Fra"}}`}
	antStop  = event{"content_block_stop", `{"type":"content_block_stop","index":0}`}
	antDelta = event{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`}
	antEnd   = event{"message_stop", `{"type":"message_stop"}`}
	antError = event{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}
)

func TestStream(t *testing.T) {
	const prompt = 40
	tests := []struct {
		name   string
		events []event
		want   Usage
		exact  bool
	}{
		{"openai with include_usage", []event{chatRole, chatHello, chatWorld, chatStop, chatUsage, chatDone}, Usage{Input: 9, Output: 4, Total: 13, Model: "gpt-4o-mini"}, true},
		{"openai without usage is estimated", []event{chatRole, chatHello, chatWorld, chatStop, chatDone}, Usage{Input: prompt, Output: 4, Total: prompt + 4, Model: "gpt-4o-mini"}, false},
		{"openai tool call arguments count", []event{chatRole, chatTool, chatDone}, Usage{Input: prompt, Output: 4, Total: prompt + 4, Model: "gpt-4o-mini"}, false},
		{"openai cut off", []event{chatRole, chatHello}, Usage{Input: prompt, Output: 2, Total: prompt + 2, Model: "gpt-4o-mini"}, false},
		{"responses api", []event{respCreated, respDelta1, respDelta2, respDone, respItem, respDoneAll}, Usage{Input: 11, Output: 5, Total: 16}, true},
		{"responses api cut off counts deltas once", []event{respCreated, respDelta1, respDelta2, respDone, respItem}, Usage{Input: prompt, Output: 4, Total: prompt + 4}, false},
		{"responses api audio is not text", []event{respCreated, respAudio}, Usage{Input: prompt, Output: 0, Total: prompt}, false},
		{"anthropic", []event{antStart, antBlock, antPing, antText1, antText2, antStop, antDelta, antEnd}, Usage{Input: 125, CacheRead: 100, Output: 15, Total: 140, Model: "claude-sonnet-4-5"}, true},
		{"anthropic cut off keeps the input", []event{antStart, antBlock, antText1, antText2, antJSON}, Usage{Input: 125, CacheRead: 100, Output: 13, Total: 138, Model: "claude-sonnet-4-5"}, false},
		{"anthropic cut off at the start", []event{antStart}, Usage{Input: 125, CacheRead: 100, Output: 1, Total: 126, Model: "claude-sonnet-4-5"}, false},
		{"anthropic error", []event{antStart, antError}, Usage{Input: 125, CacheRead: 100, Output: 1, Total: 126, Model: "claude-sonnet-4-5"}, false},
		{"anthropic delta with input", []event{antStart, {"message_delta", `{"type":"message_delta","usage":{"input_tokens":30,"output_tokens":7}}`}}, Usage{Input: 130, CacheRead: 100, Output: 7, Total: 137, Model: "claude-sonnet-4-5"}, true},
		{"nothing", nil, Usage{Input: prompt, Output: 0, Total: prompt}, false},
		{"junk is passed over", []event{
			{"", ``}, {"", `not json`}, {"", `{"choices":[{"delta":{"content":"abcd"`}, {"", `{"usage":{"prompt_tokens":-4}}`},
			{"", `{"usage":{"prompt_tokens":"4"}}`}, {"", `[1,2]`}, {"", `{"choices":[]}}`},
		}, Usage{Input: prompt, Output: 0, Total: prompt}, false},
		{"usage in streamed text is text", []event{chatChunk(`{"content":"{\"usage\":{\"prompt_tokens\":999,\"completion_tokens\":999}}"}`)},
			Usage{Input: prompt, Output: 14, Total: prompt + 14, Model: "gpt-4o-mini"}, false},
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

func TestStreamKeepsNoData(t *testing.T) {
	var s Stream
	data := []byte(chatUsage.data)
	s.Event("", data)
	for i := range data {
		data[i] = 'x' // the caller reuses its buffer
	}
	if got, exact := s.Usage(); got != (Usage{Input: 9, Output: 4, Total: 13}) || !exact {
		t.Fatalf("after the buffer changed: %+v %v", got, exact)
	}
}

// TestFromStream reads whole stored streams, as written on the wire.
func TestFromStream(t *testing.T) {
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
		name  string
		body  []byte
		want  Usage
		exact bool
	}{
		{"openai", wire(chatRole, chatHello, chatWorld, chatStop, chatUsage, chatDone), Usage{Input: 9, Output: 4, Total: 13, Model: "gpt-4o-mini"}, true},
		{"anthropic", wire(antStart, antBlock, antText1, antText2, antStop, antDelta, antEnd), Usage{Input: 125, CacheRead: 100, Output: 15, Total: 140, Model: "claude-sonnet-4-5"}, true},
		{"no usage: the text is estimated", wire(chatRole, chatHello, chatWorld, chatDone), Usage{Input: 0, Output: 4, Total: 4, Model: "gpt-4o-mini"}, false},
		// An event larger than the parser's default bound is still read.
		{"large event", wire(chatChunk(`{"content":"`+strings.Repeat("x", 2<<20)+`"}`), chatUsage), Usage{Input: 9, Output: 4, Total: 13, Model: "gpt-4o-mini"}, true},
	} {
		if got, exact := FromStream(tc.body); got != tc.want || exact != tc.exact {
			t.Errorf("%s: %+v, %v; want %+v, %v", tc.name, got, exact, tc.want, tc.exact)
		}
	}
}

func TestIsUsageChunk(t *testing.T) {
	for _, tc := range []struct {
		data string
		want bool
	}{
		{chatUsage.data, true},
		{`{"choices": [ ], "usage": {"prompt_tokens":1}}`, true},
		{chatHello.data, false},
		{chatStop.data, false},
		{`{"choices":[],"usage":null}`, false},
		{`{"choices":[{"delta":{}}],"usage":{"prompt_tokens":1}}`, false},
		{`{"x":{"choices":[],"usage":{}}}`, false},
		{`{"choices":[],"usage":{"prompt_tokens":1}`, false},
		{`[DONE]`, false},
	} {
		if got := IsUsageChunk([]byte(tc.data)); got != tc.want {
			t.Errorf("IsUsageChunk(%s) = %v, want %v", tc.data, got, tc.want)
		}
	}
}
