package llmreq

import "testing"

func TestMatchModel(t *testing.T) {
	for _, tc := range []struct {
		pattern, model string
		want           bool
	}{
		{"gpt-4*", "gpt-4o-mini", true},
		{"gpt-4*", "GPT-4.1", true},
		{"gpt-4*", "gpt-3.5-turbo", false},
		{"gpt-4*", "", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"claude-*-haiku*", "claude-3-5-haiku-20241022", true},
		{"claude-*-haiku*", "claude-3-5-sonnet", false},
		{"meta-llama/*", "meta-llama/Llama-3.1-8B", true},
		{"*/llama-3*", "meta-llama/Llama-3.1-8B", true},
		{"o1?", "o1x", true},
		{"o1?", "o1", false},
		{"o1", "o1-mini", false},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"*mini", "gpt-4o-mini", true},
		{"gpt-4o", "gpt-4o", true},
	} {
		if got := MatchModel(tc.pattern, tc.model); got != tc.want {
			t.Errorf("MatchModel(%q, %q) = %v, want %v", tc.pattern, tc.model, got, tc.want)
		}
	}
}

func BenchmarkMatchModel(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		MatchModel("claude-*-haiku*", "claude-3-5-haiku-20241022")
	}
}
