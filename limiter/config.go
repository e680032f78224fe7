package limiter

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/llmgate/caddy-llmgate/pricing"
	"github.com/llmgate/caddy-llmgate/units"
)

// Config is a Limiter's configuration in the form the Caddyfile and JSON
// configs take. Stores are not part of it; the host attaches them.
type Config struct {
	// Zones by name. A request is admitted when every zone that applies
	// to it admits it.
	Zones map[string]*ZoneConfig `json:"zones,omitempty"`
	// What happens when a store fails: "open" admits the request
	// unlimited, "closed" answers 503. Default: open.
	OnStorageError string `json:"on_storage_error,omitempty"`
	// Rate-limit headers set on every answer: openai (each request gets
	// its provider's: OpenAI's, or Anthropic's), anthropic, ietf or none.
	// Default: openai.
	Headers HeaderStyle `json:"headers,omitempty"`
	// Whether token zones ask an OpenAI chat completion stream that does
	// not ask for its usage to report it (stream_options.include_usage),
	// to charge its real usage; the usage chunk is kept from the client.
	// Off for an upstream that refuses stream_options. Default: on.
	StreamUsage *bool `json:"stream_usage,omitempty"`
	// Prices of the models' tokens, for cost zones: by model name or glob
	// (as the llm_model matcher reads them; the most specific match wins,
	// "*" prices every other model), in USD per million tokens. They
	// take precedence over PricesFile's.
	Prices map[string]pricing.Price `json:"prices,omitempty"`
	// A file of prices in the shape of LiteLLM's
	// model_prices_and_context_window.json (USD per token), read when the
	// config is loaded.
	PricesFile string `json:"prices_file,omitempty"`
}

// ZoneConfig is one zone of a Config.
type ZoneConfig struct {
	// The key requests are counted by: a placeholder such as
	// {http.request.header.Authorization}, or "static" for one bucket
	// shared by every request. Default: the caller's credential
	// (Authorization, X-Api-Key or Api-Key). Keys are hashed before they
	// are stored.
	Key string `json:"key,omitempty"`
	// Request matchers that narrow the zone to the requests they match, in
	// the host server's JSON form (for Caddy, modules of the http.matchers
	// namespace by name). The limiter does not read them: the host passes
	// an empty key for a request a zone does not apply to.
	Match map[string]json.RawMessage `json:"match,omitempty"`
	// The request rate, such as "60/m" or "100/10s".
	Requests Rate `json:"requests,omitzero"`
	// The rate of LLM tokens (prompt and completion), such as "90000/m":
	// an estimate is reserved at admission and corrected to the usage the
	// answer reports.
	Tokens Rate `json:"tokens,omitzero"`
	// The rates of prompt tokens and of generated tokens alone, such as
	// "30000/m", for providers that limit them apart (Anthropic's input
	// and output tokens per minute); reserved and settled as tokens.
	TokensIn  Rate `json:"tokens_in,omitzero"`
	TokensOut Rate `json:"tokens_out,omitzero"`
	// The money a key may spend, in USD per period, such as "25/d" or
	// "0.50/h": the answers' usage priced per model (prices), reserved at
	// admission and settled as tokens. A model with no price is refused.
	Cost CostRate `json:"cost,omitzero"`
	// The bucket depth. Default: the count of requests.
	Burst int64 `json:"burst,omitempty"`
	// How the request rate is enforced: token_bucket, leaky_bucket or
	// fixed_window. Default: token_bucket.
	Algorithm Algorithm `json:"algorithm,omitempty"`
	// How long a request may wait: in a leaky bucket's queue, or for a
	// concurrency slot.
	MaxWait units.Duration `json:"max_wait,omitempty"`
	// At most this many requests of one key in flight at once. 0: no cap.
	Concurrency int `json:"concurrency,omitempty"`
}

// FailClosed reports whether c answers 503 when a store fails, and checks
// the option's value.
func (c *Config) FailClosed() (bool, error) {
	switch c.OnStorageError {
	case "", "open":
		return false, nil
	case "closed":
		return true, nil
	}
	return false, fmt.Errorf("unknown value %q (want open or closed)", c.OnStorageError)
}

// CheckPrices reports a cost zone with no prices to price its requests.
func (c *Config) CheckPrices() error {
	if len(c.Prices) > 0 || c.PricesFile != "" {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(c.Zones)) {
		if !c.Zones[name].Cost.IsZero() {
			return fmt.Errorf("zone %s: a cost rate needs prices or a prices_file", name)
		}
	}
	return nil
}

// PriceTable reads PricesFile, when set, and returns its prices and
// Prices together, Prices taking precedence.
func (c *Config) PriceTable() (*pricing.Table, error) {
	prices := map[string]pricing.Price{}
	if c.PricesFile != "" {
		f, err := os.Open(c.PricesFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if prices, err = pricing.ReadLiteLLM(f); err != nil {
			return nil, fmt.Errorf("%s: %v", c.PricesFile, err)
		}
	}
	maps.Copy(prices, c.Prices)
	return pricing.NewTable(prices), nil
}

// Zone returns the zone named name that c describes, without stores.
func (c *ZoneConfig) Zone(name string) Zone {
	return Zone{
		Name:        name,
		Requests:    c.Requests,
		Tokens:      c.Tokens,
		TokensIn:    c.TokensIn,
		TokensOut:   c.TokensOut,
		Cost:        Rate(c.Cost),
		Burst:       c.Burst,
		Algorithm:   c.Algorithm,
		MaxWait:     time.Duration(c.MaxWait),
		Concurrency: c.Concurrency,
	}
}

// Validate checks z as New would, without creating any store.
func (z Zone) Validate() error {
	_, err := newZone(z)
	return err
}
