package usage_test

import (
	"fmt"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/usage"
)

func ExampleFromJSON() {
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,` +
		`"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`)
	u, ok := usage.FromJSON(answer)
	fmt.Println(u.Input, u.Output, u.Total, ok)
	// Output: 12 3 15 true
}

// Read the usage of an Anthropic stream, event by event.
func ExampleStream() {
	req, _ := llmreq.Scan([]byte(`{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,` +
		`"messages":[{"role":"user","content":"Hello, Claude"}]}`))
	s := usage.Stream{Prompt: usage.Prompt(req)}
	events := []struct{ name, data string }{
		{"message_start", `{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":12,"output_tokens":1}}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello!"}}`},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}`},
		{"message_stop", `{"type":"message_stop"}`},
	}
	for _, ev := range events {
		s.Event(ev.name, []byte(ev.data))
	}
	u, exact := s.Usage()
	fmt.Println("reserved", usage.Estimate(req), "spent", u.Total, "exact", exact)
	// Output: reserved 1033 spent 18 exact true
}
