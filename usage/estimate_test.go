package usage

import (
	"math"
	"testing"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

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
