package llmgate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/provider"
	"github.com/llmgate/caddy-llmgate/provider/redisshare"
	"github.com/llmgate/caddy-llmgate/usage"
	"go.uber.org/zap"
)

// Provider is the llm_provider handler, the outbound side: it owns the
// provider keys. Every credential the caller sent is removed and exactly
// one key of the pool is set, in the provider's header style. An answer
// the provider gives as 429 or 5xx, or a failed connection, is kept from
// the client while the request goes again with the next usable key, up
// to max_tries; once a byte has gone to the client nothing is retried.
// Keys that answered 429 sit out until the provider's reset, keys whose
// rate-limit headers say they are spent are passed over until then, and
// keys the provider refuses (401) leave the pool until the next
// reload. When every key sits out, a request waits up to max_wait, else
// gets 429 with the earliest reset.
//
// It goes before reverse_proxy (the Caddyfile orders it so), after
// llm_cache: followers of a coalesced request wait for its final answer,
// and llm_ratelimit settles a retried request once, to the answer that
// reached the client.
//
// This handler sets these placeholders:
//
// Placeholder | Description
// ------------|-------------
// `{http.llm.provider.key}` | the fingerprint of the key of the last attempt (12 hex digits of its SHA-256), never the key
// `{http.llm.provider.tries}` | the attempts made upstream
type Provider struct {
	provider.Config

	// Where key health is shared with other instances: redis. Default:
	// each instance learns alone.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=http.llm_provider.storage inline_key=backend"`

	handler *provider.Handler
	health  *redisshare.Health
}

// CaddyModule returns the Caddy module information.
func (Provider) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.llm_provider",
		New: func() caddy.Module { return new(Provider) },
	}
}

// Provision expands the keys' placeholders and builds the pool.
func (h *Provider) Provision(ctx caddy.Context) error {
	if err := h.Validate(); err != nil {
		return err
	}
	registerMetrics(ctx)
	log := ctx.Logger()
	repl := caddy.NewReplacer()
	secrets := make([]string, len(h.Keys))
	for i, k := range h.Keys {
		// Only a placeholder expands to nothing: naming it reveals no key.
		if secrets[i] = repl.ReplaceKnown(k, ""); secrets[i] == "" {
			return fmt.Errorf("llm_provider: key %d, %s, is empty", i+1, k)
		}
	}
	var publish func(id string, until time.Time)
	if h.StorageRaw != nil {
		mod, err := ctx.LoadModule(h, "StorageRaw")
		if err != nil {
			return fmt.Errorf("loading llm_provider storage: %v", err)
		}
		h.health = mod.(ProviderStorage).ShareHealth(storeFailures(log, "provider key health store"))
		publish = h.health.Publish
	}
	sel, _ := provider.ParseSelect(string(h.Select))
	var (
		pool *provider.Pool
		err  error
	)
	if len(secrets) == 0 && h.Auth == provider.None {
		pool = provider.NewKeylessPool(publish)
	} else if pool, err = provider.NewPool(secrets, sel, publish); err != nil {
		return err
	}
	if h.health != nil {
		h.health.Follow(pool)
	}
	statuses, connect, _ := h.Retry()
	h.handler = &provider.Handler{
		Pool:        pool,
		Auth:        h.Style(),
		RetryOn:     statuses,
		RetryFailed: connect,
		MaxTries:    h.MaxTries,
		MaxWait:     time.Duration(h.MaxWait),
		Estimate:    estimateTokens,
		OnAttempt:   countAttempt,
		OnRevoked: func(k *provider.Key, status int) {
			log.Warn("provider key refused: it leaves the pool until the next reload", zap.String("key", k.ID), zap.Int("status", status))
		},
		Report: publishProvider,
		Memo:   bodyMemo,
		Again:  ownVars,
	}
	return nil
}

// Validate checks the options.
func (h *Provider) Validate() error {
	if err := h.Config.Validate(); err != nil {
		return fmt.Errorf("llm_provider: %v", err)
	}
	return nil
}

// Cleanup stops sharing key health.
func (h *Provider) Cleanup() error {
	if h.health != nil {
		return h.health.Close()
	}
	return nil
}

// ServeHTTP sends the request on with one provider key, retrying on the
// next before the client has seen a byte.
func (h *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return h.handler.Serve(w, r, next)
}

// ownVars returns r with a copy of its vars, for an attempt after the
// first: reverse_proxy's transport may still read an earlier attempt's
// vars (a dial it started and no longer needs reads the dial info) while
// this attempt writes its own.
func ownVars(r *http.Request) *http.Request {
	vars, _ := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if vars == nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, maps.Clone(vars)))
}

// estimateTokens is the tokens r may spend, so that a key that reported
// fewer left is passed over: from what a handler before read of the body
// (llm_ratelimit, llm_cache, the llm_model matcher), else its announced
// length at about four bytes a token. The body is not read for this
// alone.
func estimateTokens(r *http.Request) int64 {
	if f := state(r).body.Known(); f != nil {
		return usage.Estimate(f)
	}
	return max(r.ContentLength, 0) / 4
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens; the syntax
// is on llmcaddyfile.ParseProvider.
func (h *Provider) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	cfg, storage, err := llmcaddyfile.ParseProvider(d)
	h.Config, h.StorageRaw = cfg, storage
	return err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Provider)(nil)
	_ caddy.Validator             = (*Provider)(nil)
	_ caddy.CleanerUpper          = (*Provider)(nil)
	_ caddyhttp.MiddlewareHandler = (*Provider)(nil)
	_ caddyfile.Unmarshaler       = (*Provider)(nil)
)
