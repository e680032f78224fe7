package llmgate

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/keyring"
	"github.com/llmgate/caddy-llmgate/llmreq"
	"go.uber.org/zap"
)

// Auth is the llm_auth handler: it lets a request through only when it
// presents exactly one gateway key that is known and good, and may use
// the request's model. It removes that key before anything else runs
// (the provider's key is set later, by header_up or the provider
// handler) and publishes who it proved. Refusals are in the error shape
// of the caller's API: 401 for a missing, unknown or expired key or
// several keys, 403 for a model the key may not use; the upstream is
// never called.
//
// When llm_auth ran, the caller's credential, for llm_ratelimit's default
// key and llm_cache's scope key, is the proven key: two callers can never
// share a bucket or a cache entry by accident, and no header opens a new
// bucket.
//
// This handler sets these placeholders:
//
// Placeholder | Description
// ------------|-------------
// `{http.llm.team}` | the team of the key
// `{http.llm.tier}` | the tier of the key
// `{http.llm.key_id}` | a short fingerprint of the key, which does not reveal it: safe for logs and metrics labels
type Auth struct {
	keyring.Config

	ring *keyring.Ring
}

// CaddyModule returns the Caddy module information.
func (Auth) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.llm_auth",
		New: func() caddy.Module { return new(Auth) },
	}
}

// Provision reads the keys: the keys file, and the inline keys with their
// placeholders expanded.
func (h *Auth) Provision(ctx caddy.Context) error {
	if err := h.Validate(); err != nil {
		return err
	}
	registerMetrics(ctx)
	repl := caddy.NewReplacer()
	for _, k := range h.Keys {
		if k.Text != "" && !strings.Contains(k.Text, "{") {
			ctx.Logger().Warn("llm_auth: a key is written in the config; give it as a placeholder such as {env.GATEWAY_KEY}, or by its sha256",
				zap.String("team", k.Team))
		}
	}
	var err error
	h.ring, err = h.Ring(func(s string) string { return repl.ReplaceAll(s, "") })
	if err != nil {
		return fmt.Errorf("llm_auth: %v", err)
	}
	return nil
}

// Validate checks that there are keys to check.
func (h *Auth) Validate() error {
	if h.KeysFile == "" && len(h.Keys) == 0 {
		return errors.New("llm_auth: no keys: give keys_file or key")
	}
	return nil
}

// ServeHTTP checks the request's key.
func (h *Auth) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	withPlaceholders(r)
	id, err := h.ring.Admit(r, time.Now())
	if err != nil {
		countAuth(err)
		(&llmreq.APIError{
			Status:  http.StatusUnauthorized,
			Type:    "invalid_request_error",
			Code:    "invalid_api_key",
			Message: "llmgate: " + err.Error(),
		}).Write(w, r)
		return nil
	}
	if len(id.Models) > 0 {
		model := ""
		if f, err := state(r).body.Fields(r, DefaultModelMaxBody); err == nil {
			model = f.Model
		}
		if !id.Allows(model) {
			countAuth(errModel)
			(&llmreq.APIError{
				Status:  http.StatusForbidden,
				Type:    "invalid_request_error",
				Code:    "model_not_found",
				Message: fmt.Sprintf("llmgate: the key may not use the model %q", model),
			}).Write(w, r)
			return nil
		}
	}
	countAuth(nil)
	publishIdentity(r, id)
	return next.ServeHTTP(w, r.WithContext(llmreq.WithIdentity(r.Context(), id.KeyID)))
}

// errModel is the refusal of a model the key may not use, for the metric.
var errModel = errors.New("model not allowed")

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens; the syntax
// is on llmcaddyfile.ParseAuth.
func (h *Auth) UnmarshalCaddyfile(d *caddyfile.Dispenser) (err error) {
	h.Config, err = llmcaddyfile.ParseAuth(d)
	return err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Auth)(nil)
	_ caddy.Validator             = (*Auth)(nil)
	_ caddyhttp.MiddlewareHandler = (*Auth)(nil)
	_ caddyfile.Unmarshaler       = (*Auth)(nil)
)
