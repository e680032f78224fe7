package llmgate

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/logging"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/redact"
	"go.uber.org/zap/zapcore"
)

// RedactFilter is a field filter for Caddy's filter encoder that scrubs
// API keys from one field, such as request>headers>X-Api-Key or
// request>uri. Under a credential header name the whole value is
// replaced; elsewhere, the secrets the rules find.
type RedactFilter struct {
	// Extra patterns (Go RE2 syntax) of secrets to scrub.
	Patterns []string `json:"patterns,omitempty"`

	scrubber *redact.Scrubber
}

// CaddyModule returns the Caddy module information.
func (RedactFilter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.encoders.filter.llm_redact",
		New: func() caddy.Module { return new(RedactFilter) },
	}
}

// Provision compiles the patterns.
func (f *RedactFilter) Provision(caddy.Context) error {
	s, err := redact.New(f.Patterns...)
	if err != nil {
		return fmt.Errorf("llm_redact: %v", err)
	}
	f.scrubber = s
	return nil
}

// Filter scrubs the field.
func (f *RedactFilter) Filter(field zapcore.Field) zapcore.Field {
	return f.scrubber.Field(field)
}

// UnmarshalCaddyfile sets up the filter from Caddyfile tokens; the syntax
// is on llmcaddyfile.ParseRedact.
func (f *RedactFilter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	_, patterns, err := llmcaddyfile.ParseRedact(d, false)
	f.Patterns = patterns
	return err
}

// Interface guards
var (
	_ logging.LogFieldFilter = (*RedactFilter)(nil)
	_ caddy.Provisioner      = (*RedactFilter)(nil)
	_ caddyfile.Unmarshaler  = (*RedactFilter)(nil)
)
