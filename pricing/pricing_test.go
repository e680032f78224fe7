package pricing

import (
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/usage"
)

func TestParseAmounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Micros
		bad  string
	}{
		{in: "25", want: 25_000_000},
		{in: "0.50", want: 500_000},
		{in: "0.000001", want: 1},
		{in: "1e2", want: 100_000_000},
		{in: "0.0000001", bad: "finer"},
		{in: "-1", bad: "negative"},
		{in: "abc", bad: "not a decimal"},
		{in: "1/3", bad: "not a decimal"},
		{in: "0x10", bad: "not a decimal"},
		{in: "", bad: "not a decimal"},
		{in: "1e400", bad: "too large"},
		{in: "1e4000", bad: "not a decimal"},
		{in: "20000000", bad: "too large"},
	} {
		got, err := ParseUSD(tc.in)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ParseUSD(%q) = %v, %v; want an error saying %q", tc.in, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseUSD(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want PerMillion
	}{
		{"0.15", 150_000}, {"3", 3_000_000}, {"0.0000001", 1}, {"1.5e-1", 150_000},
	} {
		if got, err := ParsePerMillion(tc.in); err != nil || got != tc.want {
			t.Errorf("ParsePerMillion(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if got, err := perToken("1.5e-07"); err != nil || got != 150_000 {
		t.Errorf("perToken(1.5e-07) = %v, %v; want 150000 (0.15 USD per 1M tokens)", got, err)
	}
}

func TestMicrosString(t *testing.T) {
	for m, want := range map[Micros]string{
		25_000_000: "$25.00", 500_000: "$0.50", 375: "$0.000375", 0: "$0.00", 1_234_500: "$1.2345", -50_000: "$-0.05",
	} {
		if got := m.String(); got != want {
			t.Errorf("Micros(%d).String() = %q, want %q", int64(m), got, want)
		}
	}
}

func TestCostPricesEachKindOnce(t *testing.T) {
	p := Price{Input: 150_000, Output: 600_000, CachedInput: 75_000}.Complete() // gpt-4o-mini
	// OpenAI: 1000 prompt tokens of which 400 cached, 200 completion.
	// 600×0.15 + 400×0.075 + 200×0.60 per 1M = 90 + 30 + 120 µ$.
	if got := p.Cost(usage.Usage{Input: 1000, CachedInput: 400, Output: 200}); got != 240 {
		t.Errorf("OpenAI cost = %d µ$, want 240", got)
	}
	a := Price{Input: 3_000_000, Output: 15_000_000, CacheWrite: 3_750_000, CacheRead: 300_000}.Complete()
	// Anthropic: input_tokens 100 plus 1000 written and 2000 read from
	// the cache (Usage.Input holds all three), 50 output.
	// 100×3 + 1000×3.75 + 2000×0.30 + 50×15 = 300 + 3750 + 600 + 750 µ$.
	if got := a.Cost(usage.Usage{Input: 3100, CacheWrite: 1000, CacheRead: 2000, Output: 50}); got != 5400 {
		t.Errorf("Anthropic cost = %d µ$, want 5400", got)
	}
	// A part of a microdollar is charged as a whole one.
	if got := p.Cost(usage.Usage{Input: 1}); got != 1 {
		t.Errorf("one token = %d µ$, want 1", got)
	}
	// Usage claiming more cached than prompt tokens costs no less than its parts.
	if got := p.Cost(usage.Usage{Input: 10, CachedInput: 1_000_000}); got != 75_000 {
		t.Errorf("hostile cached count = %d µ$, want 75000", got)
	}
	// Absurd counts saturate instead of wrapping around to a small amount.
	huge := Price{Input: maxPerMillion, Output: maxPerMillion}
	if got := huge.Cost(usage.Usage{Input: 1 << 62, Output: 1 << 62}); got != maxMicros {
		t.Errorf("saturated cost = %d, want %d", got, int64(maxMicros))
	}
	if got := p.Estimate(1000, 500); got != 450 {
		t.Errorf("Estimate = %d µ$, want 450", got)
	}
}

func TestCompleteDefaults(t *testing.T) {
	p := Price{Input: 10, Output: 30}.Complete()
	if p.CachedInput != 10 || p.CacheWrite != 10 || p.CacheRead != 10 {
		t.Errorf("unset cached kinds = %+v, want the input price", p)
	}
	p = Price{Input: 10, CachedInput: 5}.Complete()
	if p.CacheRead != 5 {
		t.Errorf("cache_read = %d, want cached_input 5", p.CacheRead)
	}
}

func TestMostSpecificWins(t *testing.T) {
	tab := NewTable(map[string]Price{
		"*":            {Input: 1},
		"gpt-4o*":      {Input: 2},
		"gpt-4o-mini":  {Input: 3},
		"gpt-4o-mini*": {Input: 4},
		"claude-*":     {Input: 5},
		"claude-?-*":   {Input: 6},
	})
	for model, want := range map[string]PerMillion{
		"gpt-4o-mini":            3, // a plain name beats any glob
		"GPT-4o-Mini":            3, // case does not matter
		"gpt-4o-mini-2024-07-18": 4,
		"gpt-4o-2024-08-06":      2,
		"claude-3-haiku":         6,
		"claude-sonnet-4":        5,
		"llama":                  1,
		"":                       1,
	} {
		p, ok := tab.Lookup(model)
		if !ok || p.Input != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d", model, p.Input, ok, want)
		}
	}
	if !tab.PricesAll() {
		t.Error("PricesAll = false with a * entry")
	}
	noDefault := NewTable(map[string]Price{"gpt-4o": {Input: 1}})
	if _, ok := noDefault.Lookup("gpt-4o-mini"); ok {
		t.Error("an unlisted model has a price without a * entry")
	}
	if noDefault.PricesAll() {
		t.Error("PricesAll = true without a * entry")
	}
	long := strings.Repeat("x", 300)
	if p, ok := NewTable(map[string]Price{long: {Input: 7}}).Lookup(strings.ToUpper(long)); !ok || p.Input != 7 {
		t.Errorf("a 300-byte name = %d, %v; want 7", p.Input, ok)
	}
}

func TestReadLiteLLM(t *testing.T) {
	prices, err := ReadLiteLLM(strings.NewReader(`{
		"sample_spec": {"input_cost_per_token": "PRICE", "mode": "one of chat, embedding"},
		"gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07, "cache_read_input_token_cost": 7.5e-08, "litellm_provider": "openai", "supports_vision": true},
		"claude-sonnet-4-20250514": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "cache_creation_input_token_cost": 3.75e-06, "cache_read_input_token_cost": 3e-07},
		"dall-e-3": {"output_cost_per_pixel": 0.0, "mode": "image_generation"},
		"text-embedding-3-small": {"input_cost_per_token": 2e-08, "output_cost_per_token": 0.0}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Price{
		"gpt-4o-mini":              {Input: 150_000, Output: 600_000, CachedInput: 75_000, CacheRead: 75_000},
		"claude-sonnet-4-20250514": {Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000, CacheWrite: 3_750_000, CacheRead: 300_000},
		"text-embedding-3-small":   {Input: 20_000},
	}
	if len(prices) != len(want) {
		t.Errorf("read %d prices, want %d: %v", len(prices), len(want), prices)
	}
	for model, w := range want {
		if prices[model] != w {
			t.Errorf("%s = %+v, want %+v", model, prices[model], w)
		}
	}
	for _, bad := range []string{
		`{"m": {"input_cost_per_token": -1e-6}}`,
		`{"m": {"input_cost_per_token": "cheap"}}`,
		`{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e9}}`,
		`{"m": 3}`,
		`[1]`,
	} {
		if _, err := ReadLiteLLM(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadLiteLLM(%s) = nil error", bad)
		}
	}
}
