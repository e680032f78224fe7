package pricing

import (
	"fmt"
	"math/bits"

	"github.com/llmgate/caddy-llmgate/usage"
)

// PerMillion is a price in millionths of a USD per million tokens, which
// is picodollars per token: "0.15" USD per 1M tokens is 150000.
type PerMillion int64

// maxPerMillion bounds a price: a million USD per million tokens, a USD a
// token, far beyond any model's.
const maxPerMillion = 1e6 * microsPerUSD

// ParsePerMillion reads a price in USD per million tokens written as a
// decimal ("0.15", "3", "1.5e-1"). A price finer than a millionth of a USD
// per million tokens is rounded up.
func ParsePerMillion(s string) (PerMillion, error) {
	n, _, err := parseDecimal(s, 6, maxPerMillion)
	if err != nil {
		return 0, fmt.Errorf("invalid price %q: %v", s, err)
	}
	return PerMillion(n), nil
}

// perToken reads a price in USD per token, as LiteLLM's file gives it
// ("1.5e-07").
func perToken(s string) (PerMillion, error) {
	n, _, err := parseDecimal(s, 12, maxPerMillion)
	if err != nil {
		return 0, fmt.Errorf("invalid price %q: %v", s, err)
	}
	return PerMillion(n), nil
}

// MarshalText writes the price in USD per million tokens.
func (p PerMillion) MarshalText() ([]byte, error) {
	return Micros(p).AppendUSD(nil), nil
}

// UnmarshalText reads the price with ParsePerMillion; in JSON it is a
// string, so that no decoder takes it for a float.
func (p *PerMillion) UnmarshalText(b []byte) error {
	v, err := ParsePerMillion(string(b))
	*p = v
	return err
}

// Price is what one model's tokens cost, by kind. A kind left at zero in
// a Price built by hand costs nothing; the parsers fill the cached kinds
// from Input when a source does not give them (see Complete).
type Price struct {
	// Input is the price of prompt tokens.
	Input PerMillion `json:"input"`
	// Output is the price of generated tokens, reasoning included.
	Output PerMillion `json:"output"`
	// CachedInput is the price of prompt tokens OpenAI served from its
	// prompt cache. Default: Input.
	CachedInput PerMillion `json:"cached_input,omitempty"`
	// CacheWrite is the price of prompt tokens Anthropic wrote to its
	// prompt cache. Default: Input.
	CacheWrite PerMillion `json:"cache_write,omitempty"`
	// CacheRead is the price of prompt tokens Anthropic read from its
	// prompt cache. Default: CachedInput.
	CacheRead PerMillion `json:"cache_read,omitempty"`
	// MaxOutput is the most tokens the model generates for a request that
	// sets no cap (max_tokens and the like): what such a request reserves
	// for its output. Default: DefaultMaxOutput.
	MaxOutput int64 `json:"max_output,omitempty"`
}

// DefaultMaxOutput is the default of Price.MaxOutput: a long answer. A
// request without a cap must not reserve nothing for its output, or any
// number of them at once would fit in a budget that holds one.
const DefaultMaxOutput = 4096

// Complete fills the kinds p leaves unset (zero) with their defaults: a
// cached token costs what a prompt token does unless a price says less.
func (p Price) Complete() Price {
	if p.CachedInput == 0 {
		p.CachedInput = p.Input
	}
	if p.CacheWrite == 0 {
		p.CacheWrite = p.Input
	}
	if p.CacheRead == 0 {
		p.CacheRead = p.CachedInput
	}
	if p.MaxOutput <= 0 {
		p.MaxOutput = DefaultMaxOutput
	}
	return p
}

// Cost is what an answer that spent u costs, rounded up to the
// microdollar. The cached parts of u's input are priced as such, and only
// once: they are part of Input. Far beyond any real answer it saturates.
func (p Price) Cost(u usage.Usage) Micros {
	cached := [3]int64{u.CachedInput, u.CacheWrite, u.CacheRead}
	plain := u.Input
	for _, n := range cached {
		plain -= max(n, 0)
	}
	var total pico
	total.add(max(plain, 0), p.Input)
	total.add(u.CachedInput, p.CachedInput)
	total.add(u.CacheWrite, p.CacheWrite)
	total.add(u.CacheRead, p.CacheRead)
	total.add(u.Output, p.Output)
	return total.micros()
}

// Estimate is what a request estimated to spend input prompt tokens and
// at most output generated ones (0: no cap, MaxOutput) may cost: every
// prompt token at the full input price.
func (p Price) Estimate(input, output int64) Micros {
	if output <= 0 {
		output = p.MaxOutput
	}
	var total pico
	total.add(input, p.Input)
	total.add(output, p.Output)
	return total.micros()
}

// pico sums picodollars, saturating far beyond any real amount.
type pico uint64

// add adds n tokens at price p.
func (t *pico) add(n int64, p PerMillion) {
	if n <= 0 || p <= 0 {
		return
	}
	hi, lo := bits.Mul64(uint64(n), uint64(p))
	sum, carry := bits.Add64(uint64(*t), lo, 0)
	if hi != 0 || carry != 0 || sum > maxPico {
		*t = maxPico
		return
	}
	*t = pico(sum)
}

// maxPico is where sums saturate: maxMicros.
const maxPico = maxMicros * 1_000_000

// micros is the sum in microdollars, rounded up.
func (t pico) micros() Micros {
	return Micros((uint64(t) + 999_999) / 1_000_000)
}
