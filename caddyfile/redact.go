package caddyfile

import (
	"encoding/json"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/redact"
)

// ParseRedact reads the llm_redact log encoder or, with wrap false, the
// llm_redact field filter of Caddy's filter encoder: the JSON of the
// wrapped encoder module (nil for the default) and the extra patterns.
// Syntax:
//
//	format llm_redact {
//	    wrap    <encoder> [<encoder options...>]  # default json
//	    pattern <regexp>                          # repeatable
//	}
//
//	<field> llm_redact {
//	    pattern <regexp>   # repeatable
//	}
func ParseRedact(d *caddyfile.Dispenser, wrap bool) (json.RawMessage, []string, error) {
	var (
		wrapped  json.RawMessage
		patterns []string
		seen     = options{}
	)
	d.Next() // module name
	if d.NextArg() {
		return nil, nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		switch {
		case name == "pattern":
			expr, err := oneArg(d, name)
			if err != nil {
				return nil, nil, err
			}
			if _, err := redact.New(expr); err != nil {
				return nil, nil, optionErr(d, name, err)
			}
			patterns = append(patterns, expr)
		case name == "wrap" && wrap:
			if err := seen.once(d); err != nil {
				return nil, nil, err
			}
			if !d.NextArg() {
				return nil, nil, d.Errf("wrap: missing encoder (e.g. json or console)")
			}
			format := d.Val()
			mod, err := caddyfile.UnmarshalModule(d, "caddy.logging.encoders."+format)
			if err != nil {
				return nil, nil, err
			}
			wrapped = caddyconfig.JSONModuleObject(mod, "format", format, nil)
		default:
			return nil, nil, d.Errf("unrecognized llm_redact option %q", name)
		}
	}
	return wrapped, patterns, nil
}
