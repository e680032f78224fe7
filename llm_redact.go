package llmgate

import (
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/logging"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/redact"
	"go.uber.org/zap/zapcore"
)

// RedactEncoder is a log encoder that wraps another and scrubs API keys
// from every line it writes: OpenAI, Anthropic and Google keys, bearer
// tokens, and the values of credential headers and query parameters,
// wherever they appear in the line. A secret becomes [REDACTED] with a
// short non-secret hint (its known prefix and a fingerprint), so lines of
// one key can still be told apart.
type RedactEncoder struct {
	zapcore.Encoder `json:"-"`

	// The encoder that writes the lines. Default: json.
	WrappedRaw json.RawMessage `json:"wrap,omitempty" caddy:"namespace=caddy.logging.encoders inline_key=format"`

	// Extra patterns (Go RE2 syntax) of secrets to scrub, such as
	// "hf_[A-Za-z0-9]{30,}". With a capturing group, only the group is
	// replaced.
	Patterns []string `json:"patterns,omitempty"`

	wrapped zapcore.Encoder
}

// CaddyModule returns the Caddy module information.
func (RedactEncoder) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.encoders.llm_redact",
		New: func() caddy.Module { return new(RedactEncoder) },
	}
}

// Provision sets up the wrapped encoder and the scrubber.
func (e *RedactEncoder) Provision(ctx caddy.Context) error {
	if e.WrappedRaw == nil {
		// JSON even on a terminal: the point of this encoder is lines
		// that are safe to ship to a log store.
		json := new(logging.JSONEncoder)
		if err := json.Provision(ctx); err != nil {
			return err
		}
		e.wrapped = json
	} else {
		mod, err := ctx.LoadModule(e, "WrappedRaw")
		if err != nil {
			return fmt.Errorf("loading llm_redact wrapped encoder: %v", err)
		}
		e.wrapped = mod.(zapcore.Encoder)
	}
	s, err := redact.New(e.Patterns...)
	if err != nil {
		return fmt.Errorf("llm_redact: %v", err)
	}
	e.Encoder = redact.NewEncoder(e.wrapped, s)
	return nil
}

// ConfigureDefaultFormat lets a wrapped encoder that picks its own format
// by the output (Caddy's filter encoder, for one) do so.
func (e *RedactEncoder) ConfigureDefaultFormat(wo caddy.WriterOpener) error {
	if c, ok := e.wrapped.(caddy.ConfiguresFormatterDefault); ok {
		return c.ConfigureDefaultFormat(wo)
	}
	return nil
}

// UnmarshalCaddyfile sets up the encoder from Caddyfile tokens; the syntax
// is on llmcaddyfile.ParseRedact.
func (e *RedactEncoder) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	wrapped, patterns, err := llmcaddyfile.ParseRedact(d, true)
	if err != nil {
		return err
	}
	e.WrappedRaw, e.Patterns = wrapped, patterns
	return nil
}

// Interface guards
var (
	_ zapcore.Encoder                  = (*RedactEncoder)(nil)
	_ caddy.Provisioner                = (*RedactEncoder)(nil)
	_ caddy.ConfiguresFormatterDefault = (*RedactEncoder)(nil)
	_ caddyfile.Unmarshaler            = (*RedactEncoder)(nil)
)
