package usage

import (
	"math"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// image1M is a megabyte of base64 image data.
var image1M = strings.Repeat("iVBORw0KGgo=", 1<<20/12)

func TestEstimate(t *testing.T) {
	tests := []struct {
		name           string
		body           string
		prompt, weight int64
	}{
		// "gpt-4o-mini" + "user" + "Say hello to the world" = 37 bytes.
		{"chat without a cap", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello to the world"}]}`, 10, 10},
		{"max_tokens", `{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"Say hello to the world"}]}`, 10, 110},
		{"max_completion_tokens", `{"model":"o3","max_completion_tokens":500,"messages":[{"role":"user","content":"hi"}]}`, 2, 502},
		{"max_output_tokens", `{"model":"gpt-4.1","input":"Tell me a story","max_output_tokens":1000}`, 6, 1006},
		{"anthropic", `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello, Claude"}]}`, 9, 1033},
		{"escapes count decoded", `{"input":"caf\u00e9\n"}`, 2, 2},
		{"empty object", `{}`, 0, 0},
		{"a cap beyond int64 saturates", `{"input":"x","max_tokens":1e30}`, 1, math.MaxInt64},

		// An image costs a fixed number of tokens, not its bytes: "gpt-4o"
		// + "user" + "image_url" + "text" + "What is in this image?" = 45
		// bytes.
		{"openai image", `{"model":"gpt-4o","max_tokens":300,"messages":[{"role":"user","content":[` +
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,` + image1M + `"}},{"type":"text","text":"What is in this image?"}]}]}`,
			12 + 1445, 12 + 1445 + 300},
		// "gpt-4.1" + "input_image" = 18 bytes.
		{"responses api image url", `{"model":"gpt-4.1","input":[{"content":[{"type":"input_image","image_url":"https://example.com/` + image1M + `.png"}]}]}`,
			5 + 1445, 5 + 1445},
		// "claude-sonnet-4-5" + "user" + 2 × ("image" + "base64" +
		// "image/png") + "text" + "Describe" = 73 bytes.
		{"anthropic images", `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":[` +
			`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + image1M + `"}},` +
			`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + image1M + `"}},{"type":"text","text":"Describe"}]}]}`,
			19 + 2*1600, 19 + 2*1600 + 1024},
		{"an image in a text part is text", `{"messages":[{"content":[{"type":"text","text":"data:image/png;base64,` + image1M + `"}]}]}`,
			(4 + 22 + 1<<20) / 4, (4 + 22 + 1<<20) / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := llmreq.Scan([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := Prompt(req); got != tt.prompt {
				t.Errorf("Prompt = %d, want %d", got, tt.prompt)
			}
			if got := Estimate(req); got != tt.weight {
				t.Errorf("Estimate = %d, want %d", got, tt.weight)
			}
		})
	}
	if Prompt(nil) != 0 || Estimate(nil) != 0 {
		t.Error("a request that could not be parsed estimates more than 0")
	}
}

func TestTokensOf(t *testing.T) {
	for n, want := range map[int64]int64{0: 0, 1: 1, 4: 1, 5: 2, 8: 2, 4001: 1001} {
		if got := tokensOf(n); got != want {
			t.Errorf("tokensOf(%d) = %d, want %d", n, got, want)
		}
	}
}
