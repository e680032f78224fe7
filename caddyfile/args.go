package caddyfile

import (
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/llmgate/caddy-llmgate/units"
)

// options tracks the subdirectives of one block, so a repeated one is an
// error rather than a silent override.
type options map[string]bool

func (o options) once(d *caddyfile.Dispenser) error {
	name := d.Val()
	if o[name] {
		return d.Errf("%s: already specified", name)
	}
	o[name] = true
	return nil
}

// oneArg returns the single argument of option name.
func oneArg(d *caddyfile.Dispenser, name string) (string, error) {
	if !d.NextArg() {
		return "", d.Errf("%s: missing value", name)
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.Errf("%s: unexpected argument %q", name, d.Val())
	}
	return v, nil
}

// moreArgs returns the one or more arguments of option name.
func moreArgs(d *caddyfile.Dispenser, name string) ([]string, error) {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return nil, d.Errf("%s: missing value", name)
	}
	return args, nil
}

// duration reads a non-negative duration given to option name.
func duration(d *caddyfile.Dispenser, name, v string) (units.Duration, error) {
	t, err := units.ParseDuration(v)
	if err != nil {
		return 0, d.Errf("%s: %v", name, err)
	}
	if t < 0 {
		return 0, d.Errf("%s: must not be negative, got %s", name, v)
	}
	return units.Duration(t), nil
}

// size reads the byte size that is the single argument of option name.
func size(d *caddyfile.Dispenser, name string) (units.Size, error) {
	v, err := oneArg(d, name)
	if err != nil {
		return 0, err
	}
	n, err := units.ParseSize(v)
	if err != nil {
		return 0, d.Errf("%s: %v", name, err)
	}
	return units.Size(n), nil
}

// optionErr gives an error of a value parser the position and name of
// option name; nil stays nil.
func optionErr(d *caddyfile.Dispenser, name string, err error) error {
	if err == nil {
		return nil
	}
	return d.Errf("%s: %v", name, err)
}

// positive reads the positive integer that is the single argument of
// option name.
func positive(d *caddyfile.Dispenser, name string) (int64, error) {
	v, err := oneArg(d, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, d.Errf("%s: want a positive integer, got %q", name, v)
	}
	return n, nil
}

// onOff reads the on|off value v of option name.
func onOff(d *caddyfile.Dispenser, name, v string) (*bool, error) {
	var on bool
	switch v {
	case "on":
		on = true
	case "off":
	default:
		return nil, d.Errf("%s: want on or off, got %q", name, v)
	}
	return &on, nil
}

// hasPlaceholder reports whether s holds a placeholder, such as
// {env.REDIS_URL}: its value is known only at load, so it is checked
// then.
func hasPlaceholder(s string) bool { return strings.Contains(s, "{") }
