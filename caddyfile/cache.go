package caddyfile

import (
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/units"
)

// ParseCache reads an llm_cache directive into the cache configuration and
// the JSON of its storage module (nil for the default memory storage).
// Syntax:
//
//	llm_cache [<matcher>] {
//	    ttl           <duration>              # default 1h
//	    ttl_model     <model|glob> <duration> # repeatable
//	    max_size      <size>                  # memory storage bound, default 256MiB
//	    local         <size>                  # Redis storage: copies in this instance's memory, bound like max_size
//	    max_body      <size>                  # larger requests bypass, default 1MiB
//	    max_response  <size>                  # larger answers are not stored, default 8MiB
//	    scope         key|shared|<placeholder>
//	    ignore_fields <field...>
//	    paths         <path...>
//	    storage       <module> [<args...>]    # default memory
//	    coalesce      on|off                  # share one upstream call among identical requests, default on
//	}
func ParseCache(d *caddyfile.Dispenser) (cache.Config, json.RawMessage, error) {
	var (
		cfg      cache.Config
		storage  json.RawMessage
		backend  string
		maxSize  units.Size
		local    units.Size
		seen     = options{}
		sizeLine int
		locLine  int
	)
	d.Next() // directive name
	if d.NextArg() {
		return cfg, nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		if name != "ttl_model" {
			if err := seen.once(d); err != nil {
				return cfg, nil, err
			}
		}
		var err error
		switch name {
		case "ttl":
			var v string
			if v, err = oneArg(d, name); err == nil {
				cfg.TTL, err = duration(d, name, v)
			}
		case "ttl_model":
			args := d.RemainingArgs()
			if len(args) != 2 {
				return cfg, nil, d.Errf("ttl_model: want <model> <duration>, got %d arguments", len(args))
			}
			if _, dup := cfg.ModelTTL[args[0]]; dup {
				return cfg, nil, d.Errf("ttl_model %s: already specified", args[0])
			}
			var t units.Duration
			if t, err = duration(d, name, args[1]); err == nil {
				if cfg.ModelTTL == nil {
					cfg.ModelTTL = map[string]units.Duration{}
				}
				cfg.ModelTTL[args[0]] = t
			}
		case "max_size":
			sizeLine = d.Line()
			maxSize, err = memorySize(d, name)
		case "local":
			locLine = d.Line()
			local, err = memorySize(d, name)
		case "max_body":
			cfg.MaxBody, err = size(d, name)
		case "max_response":
			cfg.MaxResponse, err = size(d, name)
		case "scope":
			cfg.Scope, err = oneArg(d, name)
		case "ignore_fields":
			cfg.IgnoreFields, err = moreArgs(d, name)
		case "paths":
			cfg.Paths, err = moreArgs(d, name)
		case "coalesce":
			var v string
			if v, err = oneArg(d, name); err == nil {
				cfg.Coalesce, err = onOff(d, name, v)
			}
		case "storage":
			storage, backend, err = storageModule(d, CacheStorageNamespace)
		default:
			return cfg, nil, d.Errf("unrecognized llm_cache option %q", name)
		}
		if err != nil {
			return cfg, nil, err
		}
	}
	if maxSize != 0 {
		switch backend {
		case "", "memory":
			storage = caddyconfig.JSON(map[string]any{"backend": "memory", "max_size": maxSize}, nil)
		default:
			return cfg, nil, fmt.Errorf("max_size: applies to the memory storage; %s storage is bounded by its own settings, at %s:%d", backend, d.File(), sizeLine)
		}
	}
	if local != 0 {
		if backend == "" || backend == "memory" {
			return cfg, nil, fmt.Errorf("local: a tier in front of Redis storage; the memory storage is local already, at %s:%d", d.File(), locLine)
		}
		var m map[string]any
		if err := json.Unmarshal(storage, &m); err != nil {
			return cfg, nil, err
		}
		m["local"] = local
		storage = caddyconfig.JSON(m, nil)
	}
	return cfg, storage, nil
}

// memorySize reads the size of a memory store (max_size, local): positive,
// and at least the smallest store (cache.MemoryStep).
func memorySize(d *caddyfile.Dispenser, name string) (units.Size, error) {
	n, err := size(d, name)
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, d.Errf("%s: must be positive", name)
	case n < cache.MemoryStep:
		return 0, d.Errf("%s: must be at least 32MiB, got %s", name, d.Val())
	}
	return n, nil
}
