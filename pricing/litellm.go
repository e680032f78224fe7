package pricing

import (
	"encoding/json"
	"fmt"
	"io"
)

// litellmEntry is the part of an entry of LiteLLM's
// model_prices_and_context_window.json that prices tokens, in USD a token.
type litellmEntry struct {
	Input      *json.Number `json:"input_cost_per_token"`
	Output     *json.Number `json:"output_cost_per_token"`
	CacheRead  *json.Number `json:"cache_read_input_token_cost"`
	CacheWrite *json.Number `json:"cache_creation_input_token_cost"`
	MaxOutput  *json.Number `json:"max_output_tokens"`
}

// ReadLiteLLM reads prices in the shape of LiteLLM's
// model_prices_and_context_window.json: an object of models, each with
// input_cost_per_token, output_cost_per_token and, optionally,
// cache_read_input_token_cost (the price of OpenAI's cached input and of
// Anthropic's cache reads) and cache_creation_input_token_cost (Anthropic's
// cache writes), in USD a token, and max_output_tokens. Entries without an input price (images,
// audio priced otherwise) and LiteLLM's "sample_spec" are left out; a
// malformed price is an error naming its model.
func ReadLiteLLM(r io.Reader) (map[string]Price, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not an object of models: %v", err)
	}
	prices := make(map[string]Price, len(raw))
	for model, msg := range raw {
		if model == "sample_spec" {
			continue
		}
		var e litellmEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("model %q: %v", model, err)
		}
		if e.Input == nil {
			continue
		}
		var p Price
		for _, f := range []struct {
			num *json.Number
			to  *PerMillion
		}{{e.Input, &p.Input}, {e.Output, &p.Output}, {e.CacheRead, &p.CachedInput}, {e.CacheWrite, &p.CacheWrite}} {
			if f.num == nil {
				continue
			}
			v, err := perToken(f.num.String())
			if err != nil {
				return nil, fmt.Errorf("model %q: %v", model, err)
			}
			*f.to = v
		}
		p.CacheRead = p.CachedInput
		if e.MaxOutput != nil {
			// A count LiteLLM does not know (or gives as text) leaves the
			// default.
			if n, err := e.MaxOutput.Int64(); err == nil && n > 0 {
				p.MaxOutput = n
			}
		}
		prices[model] = p
	}
	return prices, nil
}
