package caddyfile

import (
	"encoding/json"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/provider"
)

// ParseProvider reads an llm_provider directive. Syntax:
//
//	llm_provider [<matcher>] {
//	    auth      bearer|x-api-key|api-key|query|none <key...>  # keys: best placeholders, {env.OPENAI_KEY_1}
//	    select    least_busy|round_robin               # default least_busy
//	    retry_on  <status|connect...>                  # default 429 500 502 503 504 connect
//	    max_tries <count>                              # attempts upstream per request, default 3
//	    max_wait  <duration>                           # wait for a key to come back, default 0
//	    storage   redis <url>                          # share key health between instances
//	}
//
// It returns the configuration and the JSON of the storage module (nil
// when key health is not shared).
func ParseProvider(d *caddyfile.Dispenser) (provider.Config, json.RawMessage, error) {
	var (
		cfg     provider.Config
		storage json.RawMessage
		seen    = options{}
	)
	d.Next() // directive name
	if d.NextArg() {
		return cfg, nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		if err := seen.once(d); err != nil {
			return cfg, nil, err
		}
		var err error
		switch name {
		case "auth":
			var args []string
			if args, err = moreArgs(d, name); err == nil {
				cfg.Auth, err = provider.ParseAuth(args[0])
				cfg.Keys = args[1:]
				err = optionErr(d, name, err)
			}
		case "select":
			var v string
			if v, err = oneArg(d, name); err == nil {
				cfg.Select, err = provider.ParseSelect(v)
				err = optionErr(d, name, err)
			}
		case "retry_on":
			cfg.RetryOn, err = moreArgs(d, name)
		case "max_tries":
			var n int64
			n, err = positive(d, name)
			cfg.MaxTries = int(n)
		case "max_wait":
			var v string
			if v, err = oneArg(d, name); err == nil {
				cfg.MaxWait, err = duration(d, name, v)
			}
		case "storage":
			storage, _, err = storageModule(d, ProviderStorageNamespace)
		default:
			return cfg, nil, d.Errf("unrecognized llm_provider option %q", name)
		}
		if err != nil {
			return cfg, nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, d.Errf("llm_provider: %v", err)
	}
	return cfg, storage, nil
}
