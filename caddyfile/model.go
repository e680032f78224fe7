package caddyfile

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/units"
)

// ParseModel reads the llm_model matcher: its model globs, whether it
// matches requests whose model cannot be read, and the most body it reads
// (0: the default). Syntax:
//
//	llm_model [<pattern...>] [unknown] {
//		max_body <size>
//	}
//
// The word unknown matches requests whose model cannot be read (write
// unknow? for a model of that name). Several llm_model lines of one named
// matcher add up.
func ParseModel(d *caddyfile.Dispenser) (patterns []string, unknown bool, maxBody units.Size, err error) {
	for d.Next() {
		args := d.RemainingArgs()
		if len(args) == 0 {
			return nil, false, 0, d.Errf("llm_model: missing model pattern (or unknown)")
		}
		for _, a := range args {
			if a == "unknown" {
				unknown = true
				continue
			}
			patterns = append(patterns, a)
		}
		for nesting := d.Nesting(); d.NextBlock(nesting); {
			if d.Val() != "max_body" {
				return nil, false, 0, d.Errf("llm_model: unknown option %q", d.Val())
			}
			if maxBody != 0 {
				return nil, false, 0, d.Err("llm_model: max_body already specified")
			}
			n, err := size(d, "llm_model: max_body")
			if err != nil {
				return nil, false, 0, err
			}
			if n <= 0 {
				return nil, false, 0, d.Errf("llm_model: max_body: want a positive size such as 64MiB, got %s", d.Val())
			}
			maxBody = n
		}
	}
	return patterns, unknown, maxBody, nil
}
