package caddyfile

import (
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/keyring"
)

// ParseAuth reads an llm_auth directive. Syntax:
//
//	llm_auth [<matcher>] {
//	    keys_file <path>              # {"keys":[{"sha256":…,"team":…,…}]}: hashes only
//	    key <key> {                   # repeatable; best a placeholder: key {env.GATEWAY_KEY_CI} {
//	        team    <name>            # required
//	        models  <glob...>         # default: every model
//	        tier    <name>
//	        expires <day or RFC 3339 time>
//	    }
//	    from <header...>              # default: Authorization (Bearer), X-Api-Key, Api-Key
//	}
//
// The keys are checked now, so that a bad one fails `caddy adapt` with
// its line: an unreadable keys file (unless its path is a placeholder), a
// malformed hash or expiry, a key without a team, a key given twice.
func ParseAuth(d *caddyfile.Dispenser) (keyring.Config, error) {
	var (
		cfg  keyring.Config
		seen = options{}
	)
	d.Next() // directive name
	if d.NextArg() {
		return cfg, d.ArgErr()
	}
	var known []keyring.Key // the keys checkable now, to find one given twice
	for d.NextBlock(0) {
		name := d.Val()
		if name != "key" {
			if err := seen.once(d); err != nil {
				return cfg, err
			}
		}
		var err error
		switch name {
		case "keys_file":
			if cfg.KeysFile, err = oneArg(d, name); err == nil && !hasPlaceholder(cfg.KeysFile) {
				var keys []keyring.Key
				if keys, err = keyring.ReadFile(cfg.KeysFile); err == nil {
					_, err = keyring.NewRing(keys, nil)
				}
				known = append(known, keys...)
				err = optionErr(d, name, err)
			}
		case "key":
			line := d.Line()
			var k keyring.InlineKey
			if k, err = parseKey(d); err == nil {
				cfg.Keys = append(cfg.Keys, k)
				// A placeholder stands for its key here: one given twice
				// is one key given twice.
				k.SHA256 = keyring.Hash(k.Text)
				known = append(known, k.Key)
				if _, err = keyring.NewRing(known, nil); err != nil {
					// At the key's line, not at the end of its block.
					err = fmt.Errorf("key: %v, at %s:%d", err, d.File(), line)
				}
			}
		case "from":
			cfg.From, err = moreArgs(d, name)
		default:
			return cfg, d.Errf("unrecognized llm_auth option %q", name)
		}
		if err != nil {
			return cfg, err
		}
	}
	if cfg.KeysFile == "" && len(cfg.Keys) == 0 {
		return cfg, d.Err("llm_auth: no keys: give keys_file or key")
	}
	return cfg, nil
}

// parseKey reads one `key <key> { … }` block.
func parseKey(d *caddyfile.Dispenser) (keyring.InlineKey, error) {
	var k keyring.InlineKey
	var err error
	if k.Text, err = oneArg(d, "key"); err != nil {
		return k, err
	}
	seen := options{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if err := seen.once(d); err != nil {
			return k, err
		}
		switch opt {
		case "team":
			k.Team, err = oneArg(d, opt)
		case "tier":
			k.Tier, err = oneArg(d, opt)
		case "models":
			k.Models, err = moreArgs(d, opt)
		case "expires":
			k.Expires, err = oneArg(d, opt)
		default:
			return k, d.Errf("key: unrecognized option %q", opt)
		}
		if err != nil {
			return k, err
		}
	}
	if k.Team == "" {
		return k, d.Err("key: no team")
	}
	return k, nil
}
