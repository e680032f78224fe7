package caddyfile

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// parsePrices reads the prices block of llm_ratelimit into cfg. Syntax:
//
//	prices {
//	    <model|glob> input <usd> output <usd> [cached_input <usd>] [cache_write <usd>] [cache_read <usd>] [max_output <tokens>]
//	}
//
// Prices are USD per million tokens; globs as in llm_model, the most
// specific match winning; "*" prices every other model. input and output
// are required; cached_input (OpenAI's cached prompt tokens) and
// cache_write (Anthropic's cache writes) default to input, cache_read
// (Anthropic's cache reads) to cached_input. max_output is what a request
// that sets no cap on its output reserves for it (default 4096 tokens).
func parsePrices(d *caddyfile.Dispenser, cfg *limiter.Config) error {
	if d.NextArg() {
		return d.Errf("prices: unexpected argument %q (the prices go in a block)", d.Val())
	}
	if cfg.Prices == nil {
		cfg.Prices = map[string]pricing.Price{}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		model := d.Val()
		if _, dup := cfg.Prices[model]; dup {
			return d.Errf("prices: %s: already specified", model)
		}
		p, err := parsePrice(d, model)
		if err != nil {
			return err
		}
		cfg.Prices[model] = p
	}
	if len(cfg.Prices) == 0 {
		return d.Err("prices: no model priced")
	}
	return nil
}

// parsePrice reads the kinds and prices that follow model on its line.
func parsePrice(d *caddyfile.Dispenser, model string) (pricing.Price, error) {
	var p pricing.Price
	kinds := map[string]*pricing.PerMillion{
		"input": &p.Input, "output": &p.Output, "cached_input": &p.CachedInput,
		"cache_write": &p.CacheWrite, "cache_read": &p.CacheRead,
	}
	seen := map[string]bool{}
	args := d.RemainingArgs()
	for i := 0; i < len(args); i += 2 {
		kind := args[i]
		to, ok := kinds[kind]
		switch {
		case !ok && kind != "max_output":
			return p, d.Errf("prices: %s: unknown kind %q (want input, output, cached_input, cache_write, cache_read or max_output)", model, kind)
		case seen[kind]:
			return p, d.Errf("prices: %s: %s already specified", model, kind)
		case i+1 == len(args):
			return p, d.Errf("prices: %s: %s: missing value", model, kind)
		}
		seen[kind] = true
		if kind == "max_output" {
			n, err := strconv.ParseInt(args[i+1], 10, 64)
			if err != nil || n <= 0 {
				return p, d.Errf("prices: %s: max_output: want a positive number of tokens, got %q", model, args[i+1])
			}
			p.MaxOutput = n
			continue
		}
		v, err := pricing.ParsePerMillion(args[i+1])
		if err != nil {
			return p, d.Errf("prices: %s: %s: %v", model, kind, err)
		}
		*to = v
	}
	for _, kind := range []string{"input", "output"} {
		if !seen[kind] {
			return p, d.Errf("prices: %s: missing %s price", model, kind)
		}
	}
	return p, nil
}
