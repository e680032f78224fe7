package provider

import (
	"fmt"
	"strconv"
	"time"

	"github.com/llmgate/caddy-llmgate/units"
)

// Config is a Handler's configuration in the form the Caddyfile and JSON
// configs take.
type Config struct {
	// How the provider takes its key: bearer (Authorization: Bearer),
	// x-api-key (and anthropic-version when the request has none),
	// api-key (Azure), query (?key=, Google) or none. Default: bearer.
	Auth Auth `json:"auth,omitempty"`
	// The provider keys of the pool; best placeholders such as
	// {env.OPENAI_KEY_1}. Each must be set and differ from the others.
	Keys []string `json:"keys,omitempty"`
	// How a key is chosen: least_busy (the fewest requests in flight) or
	// round_robin. Default: least_busy.
	Select Select `json:"select,omitempty"`
	// The answers that make a request go again with the next key, before
	// the client has seen a byte: statuses, and "connect" for a failed
	// connection. Default: 429 500 502 503 504 connect.
	RetryOn []string `json:"retry_on,omitempty"`
	// The most attempts upstream of one request. Default: 3.
	MaxTries int `json:"max_tries,omitempty"`
	// How long a request waits for a key to come back when every key sits
	// out. Default: 0, answer 429 at once.
	MaxWait units.Duration `json:"max_wait,omitempty"`
}

// Retry reads RetryOn: the statuses, and whether a failed connection is
// retried.
func (c *Config) Retry() (statuses []int, connect bool, err error) {
	if c.RetryOn == nil {
		return DefaultRetryOn, true, nil
	}
	for _, v := range c.RetryOn {
		if v == "connect" {
			connect = true
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 400 || n > 599 {
			return nil, false, fmt.Errorf("retry_on: %q is neither an error status (400-599) nor connect", v)
		}
		statuses = append(statuses, n)
	}
	return statuses, connect, nil
}

// Validate checks the options that do not need the keys' values.
func (c *Config) Validate() error {
	if c.Auth != "" {
		if _, err := ParseAuth(string(c.Auth)); err != nil {
			return err
		}
	}
	if _, err := ParseSelect(string(c.Select)); err != nil {
		return err
	}
	if _, _, err := c.Retry(); err != nil {
		return err
	}
	switch {
	case len(c.Keys) == 0 && c.Auth != None:
		return fmt.Errorf("no key (auth %s needs at least one)", c.Style())
	case len(c.Keys) > MaxKeys:
		return fmt.Errorf("%d keys, at most %d", len(c.Keys), MaxKeys)
	case c.MaxTries < 0:
		return fmt.Errorf("max_tries: negative %d", c.MaxTries)
	case c.MaxWait < 0:
		return fmt.Errorf("max_wait: negative %s", time.Duration(c.MaxWait))
	}
	return nil
}

// Style is the credential style Auth names: Bearer when unset.
func (c *Config) Style() Auth {
	if c.Auth == "" {
		return Bearer
	}
	return c.Auth
}
