package cache

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/units"
)

// Defaults for the zero values of Config.
const (
	DefaultTTL         = time.Hour
	DefaultMaxBody     = 1 << 20
	DefaultMaxResponse = 8 << 20
	DefaultMaxSize     = 256 << 20
)

// DefaultPaths are the API endpoints whose answers depend on the request
// body alone.
var DefaultPaths = []string{
	"/v1/chat/completions",
	"/v1/completions",
	"/v1/embeddings",
	"/v1/responses",
	"/v1/messages",
}

// Scopes known to the library; any other Scope needs a Partition function.
const (
	ScopeKey    = "key"
	ScopeShared = "shared"
)

// Config configures a Cache. Its JSON form is the JSON form of the Caddy
// handler llm_cache.
type Config struct {
	// How long a stored answer is served. Default: 1h.
	TTL units.Duration `json:"ttl,omitempty"`

	// Per-model TTL overrides, by model name or glob ('*' any run, '?' one
	// character, case ignored, as the llm_model matcher), e.g.
	// "text-embedding-*"; the longest matching pattern wins.
	ModelTTL map[string]units.Duration `json:"ttl_model,omitempty"`

	// Requests with a larger body are not cached and are forwarded without
	// being buffered whole. Default: 1MiB.
	MaxBody units.Size `json:"max_body,omitempty"`

	// Larger answers are passed on but not stored. Default: 8MiB.
	MaxResponse units.Size `json:"max_response,omitempty"`

	// Who may share an entry: "key" (default) partitions entries by the
	// caller's credential, normalised (llmreq.Credential: the
	// Authorization, x-api-key, api-key or x-goog-api-key header, or the
	// key query parameter), bypasses requests without one and refuses
	// (400) requests with two different ones; "shared" lets every caller
	// share them; any other value is a placeholder whose per-request value
	// partitions entries.
	Scope string `json:"scope,omitempty"`

	// Top-level JSON fields left out of the key, e.g. "user" or "metadata".
	IgnoreFields []string `json:"ignore_fields,omitempty"`

	// URL paths whose POST answers are cached. Default: the OpenAI and
	// Anthropic generation and embedding endpoints.
	Paths []string `json:"paths,omitempty"`

	// Coalesce makes concurrent identical requests (same key) share one
	// upstream call: the first goes upstream, the others get its answer as
	// it arrives (a stream event by event, from its start). Default: on.
	Coalesce *bool `json:"coalesce,omitempty"`

	// Partition returns the scope partition of a request when Scope is
	// neither "key" nor "shared" (the Caddy handler expands the placeholder).
	Partition func(*http.Request) string `json:"-"`

	// Store holds the entries. Default: a memory store of DefaultMaxSize.
	Store Store `json:"-"`

	// OnError receives the store's failures, each a *StoreError, which
	// Serve survives: a failed lookup forwards the request, a failed store
	// leaves the answer unstored. Nil: they are dropped.
	OnError func(error) `json:"-"`

	// Memo, when set, returns the memo of a request's body that its
	// handlers share (see llmreq.MemoOf); nil: the memo its context
	// carries, if any.
	Memo func(*http.Request) *llmreq.Memo `json:"-"`

	// Report, when set, is told what Serve did with each request: once
	// the outcome is known, before the answer starts (what reads it while
	// the answer is written, such as a deferred header, finds it), and
	// again when Serve returns, with Result.Done set.
	Report func(r *http.Request, res Result) `json:"-"`
}

// Validate reports the first invalid option, named as in the Caddyfile.
func (c *Config) Validate() error {
	if c.TTL < 0 {
		return fmt.Errorf("ttl: must not be negative, got %s", time.Duration(c.TTL))
	}
	for m, d := range c.ModelTTL {
		if d < 0 {
			return fmt.Errorf("ttl_model %s: must not be negative, got %s", m, time.Duration(d))
		}
		if m == "" {
			return errors.New("ttl_model: empty model pattern")
		}
	}
	if c.MaxBody < 0 {
		return errors.New("max_body: must not be negative")
	}
	if c.MaxResponse < 0 {
		return errors.New("max_response: must not be negative")
	}
	switch c.Scope {
	case "", ScopeKey, ScopeShared:
	default:
		if c.Partition == nil {
			return fmt.Errorf("scope %q: needs a partition function", c.Scope)
		}
	}
	return nil
}
