package caddyfile

import (
	"encoding/json"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// ParseRateLimit reads an llm_ratelimit directive into the limiter
// configuration and the JSON of its storage module (nil for the default
// memory storage). Syntax:
//
//	llm_ratelimit [<matcher>] {
//	    zone <name> {
//	        key         <placeholder>|static    # default: the caller's credential, normalised
//	        match       <matcher> [<args...>]   # or match { <matchers> }
//	        requests    <count>/<period>        # 60/m, 5/s, 1000/d, 100/10s
//	        tokens      <count>/<period>        # LLM tokens, settled to the answer's usage
//	        tokens_in   <count>/<period>        # prompt tokens alone
//	        tokens_out  <count>/<period>        # generated tokens alone
//	        cost        <usd>/<period>          # 25/d, 0.50/h: usage priced per model
//	        burst       <count>                 # default: the count of requests
//	        algorithm   token_bucket|leaky_bucket|fixed_window
//	        max_wait    <duration>              # leaky bucket queue, concurrency wait
//	        concurrency <count>                 # requests of one key in flight
//	    }
//	    prices { <model|glob> input <usd> output <usd> … }  # USD per 1M tokens, see parsePrices
//	    prices_file      <path>                 # LiteLLM's model_prices_and_context_window.json shape
//	    storage          <module> [<args...>]   # default memory
//	    on_storage_error open|closed            # default open
//	    headers          openai|anthropic|ietf|none  # default openai: each request gets its provider's
//	    stream_usage     on|off                 # token zones ask chat streams for their usage, default on
//	}
//
// zone is repeatable; a request must fit in every zone that applies.
func ParseRateLimit(d *caddyfile.Dispenser) (limiter.Config, json.RawMessage, error) {
	var (
		cfg     limiter.Config
		storage json.RawMessage
		seen    = options{}
	)
	d.Next() // directive name
	if d.NextArg() {
		return cfg, nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		if name != "zone" {
			if err := seen.once(d); err != nil {
				return cfg, nil, err
			}
		}
		var err error
		switch name {
		case "zone":
			err = parseZone(d, &cfg)
		case "prices":
			err = parsePrices(d, &cfg)
		case "prices_file":
			cfg.PricesFile, err = oneArg(d, name)
		case "storage":
			storage, _, err = storageModule(d, RateLimitStorageNamespace)
		case "on_storage_error":
			if cfg.OnStorageError, err = oneArg(d, name); err == nil {
				_, err = cfg.FailClosed()
				err = optionErr(d, name, err)
			}
		case "headers":
			var v string
			if v, err = oneArg(d, name); err == nil {
				cfg.Headers, err = limiter.ParseHeaderStyle(v)
				err = optionErr(d, name, err)
			}
		case "stream_usage":
			var v string
			if v, err = oneArg(d, name); err == nil {
				cfg.StreamUsage, err = onOff(d, name, v)
			}
		default:
			return cfg, nil, d.Errf("unrecognized llm_ratelimit option %q", name)
		}
		if err != nil {
			return cfg, nil, err
		}
	}
	if len(cfg.Zones) == 0 {
		return cfg, nil, d.Err("llm_ratelimit: no zone defined")
	}
	if err := cfg.CheckPrices(); err != nil {
		return cfg, nil, d.Errf("llm_ratelimit: %v", err)
	}
	return cfg, storage, nil
}

// parseZone reads one `zone <name> { … }` block into cfg.
func parseZone(d *caddyfile.Dispenser, cfg *limiter.Config) error {
	if !d.NextArg() {
		return d.Errf("zone: missing name")
	}
	name := d.Val()
	if d.NextArg() {
		return d.Errf("zone %s: unexpected argument %q", name, d.Val())
	}
	var err error
	if _, dup := cfg.Zones[name]; dup {
		return d.Errf("zone %s: already specified", name)
	}
	z := &limiter.ZoneConfig{}
	seen := options{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if err := seen.once(d); err != nil {
			return err
		}
		switch opt {
		case "key":
			z.Key, err = oneArg(d, opt)
		case "match":
			var set map[string]json.RawMessage
			set, err = caddyhttp.ParseCaddyfileNestedMatcherSet(d)
			if err == nil && len(set) == 0 {
				err = d.Errf("match: missing matcher")
			}
			z.Match = set
		case "requests", "tokens", "tokens_in", "tokens_out":
			var v string
			var rate limiter.Rate
			if v, err = oneArg(d, opt); err == nil {
				rate, err = limiter.ParseRate(v)
				err = optionErr(d, opt, err)
			}
			switch opt {
			case "requests":
				z.Requests = rate
			case "tokens":
				z.Tokens = rate
			case "tokens_in":
				z.TokensIn = rate
			case "tokens_out":
				z.TokensOut = rate
			}
		case "cost":
			var v string
			if v, err = oneArg(d, opt); err == nil {
				z.Cost, err = limiter.ParseCostRate(v)
				err = optionErr(d, opt, err)
			}
		case "burst":
			z.Burst, err = positive(d, opt)
		case "concurrency":
			var n int64
			n, err = positive(d, opt)
			z.Concurrency = int(n)
		case "algorithm":
			var v string
			if v, err = oneArg(d, opt); err == nil {
				z.Algorithm = limiter.Algorithm(v)
			}
		case "max_wait":
			var v string
			if v, err = oneArg(d, opt); err == nil {
				z.MaxWait, err = duration(d, opt, v)
			}
		default:
			return d.Errf("zone %s: unrecognized option %q", name, opt)
		}
		if err != nil {
			return err
		}
	}
	// The limiter's own checks (a rate or a cap, burst only with a rate,
	// known algorithm) run here too, so that adapt reports them with the
	// line.
	if err := z.Zone(name).Validate(); err != nil {
		return d.Errf("%v", err)
	}
	if cfg.Zones == nil {
		cfg.Zones = map[string]*limiter.ZoneConfig{}
	}
	cfg.Zones[name] = z
	return nil
}
