package llmgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/llmreq"
	ulule "github.com/ulule/limiter/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// RateLimit is the llm_ratelimit handler: it admits a request only when
// every zone that applies to it has room, and answers 429 in the shape
// OpenAI SDKs retry on otherwise.
type RateLimit struct {
	limiter.Config

	// Where bucket and window state is kept. Default: memory.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=http.llm_ratelimit.storage inline_key=backend"`

	limiter *limiter.Limiter
	// zones are in the order given to the limiter.
	zones []rateZone
	style limiter.HeaderStyle
	// tokens is set when a zone limits tokens: the limiter then reads the
	// body, through the request's shared memo.
	tokens bool
	// redis is set when the zones' state is in Redis.
	redis    bool
	inflight []string
	logger   *zap.Logger // sampled: store failures
	debug    *zap.Logger // every request, at debug level only
}

// rateZone is how one zone finds a request's key.
type rateZone struct {
	// key is the placeholder of the key, "static", or "" for the
	// caller's credential (llmreq.Credential).
	key   string
	match caddyhttp.MatcherSets
}

// RateLimitStorage is implemented by the modules of the
// http.llm_ratelimit.storage namespace.
type RateLimitStorage interface {
	// RateLimitStores returns the stores of the zone whose state id
	// names; a zone whose id is unchanged by a reload keeps its state.
	RateLimitStores(id string) (limiter.BucketStore, ulule.Store, error)
}

// CaddyModule returns the Caddy module information.
func (RateLimit) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.llm_ratelimit",
		New: func() caddy.Module { return new(RateLimit) },
	}
}

// Provision sets up the zones, their matchers and their stores.
func (h *RateLimit) Provision(ctx caddy.Context) error {
	registerMetrics(ctx)
	warnUnredactedLogs(ctx)
	h.debug = ctx.Logger()
	h.logger = sampled(ctx.Logger())
	failClosed, err := h.FailClosed()
	if err != nil {
		return fmt.Errorf("on_storage_error: %v", err)
	}
	if h.style, err = limiter.ParseHeaderStyle(string(h.Headers)); err != nil {
		return err
	}
	if len(h.Zones) == 0 {
		return fmt.Errorf("llm_ratelimit: no zone defined")
	}
	if h.StorageRaw == nil {
		h.StorageRaw = json.RawMessage(`{"backend":"memory"}`)
	}
	mod, err := ctx.LoadModule(h, "StorageRaw")
	if err != nil {
		return fmt.Errorf("loading llm_ratelimit storage: %v", err)
	}
	storage := mod.(RateLimitStorage)
	_, h.redis = mod.(redisBacked)

	names := make([]string, 0, len(h.Zones))
	for name := range h.Zones {
		names = append(names, name)
	}
	slices.Sort(names)
	zones := make([]limiter.Zone, 0, len(names))
	for _, name := range names {
		zc := h.Zones[name]
		z := zc.Zone(name)
		if err := z.Validate(); err != nil {
			return err
		}
		if !z.Requests.IsZero() || !z.Tokens.IsZero() {
			if z.Buckets, z.Windows, err = storage.RateLimitStores(zoneID(z)); err != nil {
				return fmt.Errorf("zone %s: %v", name, err)
			}
		}
		if z.Concurrency > 0 {
			z.InFlight = h.sharedInFlight(name)
		}
		rz := rateZone{key: zc.Key}
		if len(zc.Match) > 0 {
			mods := make(map[string]any, len(zc.Match))
			for mname, raw := range zc.Match {
				m, err := ctx.LoadModuleByID("http.matchers."+mname, raw)
				if err != nil {
					return fmt.Errorf("zone %s: match %s: %v", name, mname, err)
				}
				mods[mname] = m
			}
			if err := rz.match.FromInterface([]map[string]any{mods}); err != nil {
				return fmt.Errorf("zone %s: %v", name, err)
			}
		}
		h.zones = append(h.zones, rz)
		zones = append(zones, z)
		h.tokens = h.tokens || !z.Tokens.IsZero()
	}
	h.limiter, err = limiter.New(zones, limiter.Options{
		FailClosed: failClosed,
		OnError: func(err error) {
			h.logger.Warn("rate limit store failed", zap.Bool("fail_closed", failClosed), zap.Error(err))
		},
		Free:   cacheServed,
		Report: h.report,
	})
	if err != nil {
		return err
	}
	liveLimiters.add(h.limiter, h.limiter)
	return nil
}

// zoneID names the state of z: a reload keeps a zone's counts when its
// name, rates, burst and algorithm are unchanged.
func zoneID(z limiter.Zone) string {
	requests, _ := z.Requests.MarshalText()
	tokens, _ := z.Tokens.MarshalText()
	return z.Name + "|" + string(requests) + "|" + string(tokens) + "|" + strconv.FormatInt(z.Burst, 10) + "|" + string(z.Algorithm)
}

// sharedInFlight returns the table of requests in flight of zone name,
// which requests still running under the previous config share.
func (h *RateLimit) sharedInFlight(name string) *limiter.InFlight {
	key := "llm_ratelimit.inflight." + name
	v, _, _ := memoryStores.LoadOrNew(key, func() (caddy.Destructor, error) {
		return pooledInFlight{limiter.NewInFlight()}, nil
	})
	h.inflight = append(h.inflight, key)
	return v.(pooledInFlight).InFlight
}

type pooledInFlight struct{ *limiter.InFlight }

func (pooledInFlight) Destruct() error { return nil }

// Cleanup releases the concurrency tables and the limiter.
func (h *RateLimit) Cleanup() error {
	for _, k := range h.inflight {
		_, _ = memoryStores.Delete(k)
	}
	if h.limiter != nil {
		liveLimiters.remove(h.limiter)
		return h.limiter.Close()
	}
	return nil
}

// ServeHTTP admits the request in every zone that applies to it, or
// refuses it.
func (h *RateLimit) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	keys, err := h.keys(r)
	var refusal *llmreq.APIError
	if errors.As(err, &refusal) {
		refusal.Write(w)
		return nil
	}
	if err != nil {
		return err
	}
	withPlaceholders(r)
	if h.tokens {
		r = withBodyMemo(r)
	}
	if h.redis {
		r = withRedisBudget(r)
	}
	return h.limiter.Serve(w, r, keys, h.style, next)
}

// report publishes how a request went (placeholders, metrics) and, at
// debug level, says when its tokens were charged by estimate because the
// answer reported no usage.
func (h *RateLimit) report(r *http.Request, rep limiter.Report) {
	reportLimit(r, rep)
	if rep.Exact || rep.Usage.Total == 0 {
		return
	}
	if ce := h.debug.Check(zapcore.DebugLevel, "tokens charged by estimate: the answer reported no usage"); ce != nil {
		model := ""
		if q := bodyMemo(r).Known(); q != nil {
			model = q.Model
		}
		ce.Write(zap.String("model", model), zap.String("path", r.URL.Path), zap.Int64("estimated_tokens", rep.Usage.Total))
	}
}

// cacheServed reports an answer llm_cache served without an upstream call
// (a hit, or a share of an identical request's answer): it costs no
// upstream tokens.
func cacheServed(_ int, h http.Header) bool {
	cs := h.Get("Cache-Status")
	return strings.HasPrefix(cs, "llmgate; hit") || strings.Contains(cs, "collapsed")
}

// anonymous is the key of a request whose key placeholder is empty: all
// such requests share one bucket rather than escaping the limit.
const anonymous = "\x00anonymous"

// keys returns r's key in each zone, "" where a zone's matchers exclude it.
// A request with two different credentials has no key of its own in a
// zone keyed on the credential: keys returns ErrConflictingCredentials,
// and the request is refused before any zone counts it.
func (h *RateLimit) keys(r *http.Request) ([]string, error) {
	keys := make([]string, len(h.zones))
	var repl *caddy.Replacer
	for i, z := range h.zones {
		if z.match != nil {
			ok, err := z.match.AnyMatchWithError(r)
			if err != nil {
				return nil, caddyhttp.Error(http.StatusBadRequest, err)
			}
			if !ok {
				continue
			}
		}
		var k string
		switch z.key {
		case "":
			var err error
			if k, err = llmreq.Credential(r); err != nil {
				return nil, err
			}
		case "static":
			k = "static"
		default:
			if repl == nil {
				repl = r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
			}
			k = repl.ReplaceAll(z.key, "")
		}
		if k == "" {
			k = anonymous
		}
		keys[i] = k
	}
	return keys, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	llm_ratelimit [<matcher>] {
//	    zone <name> {
//	        key         <placeholder>|static    # default: the caller's credential, normalised
//	        match       <matcher> [<args...>]   # or match { <matchers> }
//	        requests    <count>/<period>        # 60/m, 5/s, 1000/d, 100/10s
//	        tokens      <count>/<period>        # LLM tokens, settled to the answer's usage
//	        burst       <count>                 # default: the count of requests
//	        algorithm   token_bucket|leaky_bucket|fixed_window
//	        max_wait    <duration>              # leaky bucket queue, concurrency wait
//	        concurrency <count>                 # requests of one key in flight
//	    }
//	    storage          <module> [<args...>]   # default memory
//	    on_storage_error open|closed            # default open
//	    headers          openai|ietf|none       # default openai
//	}
//
// zone is repeatable; a request must fit in every zone that applies.
func (h *RateLimit) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	cfg, storage, err := llmcaddyfile.ParseRateLimit(d)
	if err != nil {
		return err
	}
	h.Config, h.StorageRaw = cfg, storage
	return nil
}

func parseRateLimit(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	rl := new(RateLimit)
	err := rl.UnmarshalCaddyfile(h.Dispenser)
	return rl, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*RateLimit)(nil)
	_ caddy.CleanerUpper          = (*RateLimit)(nil)
	_ caddyhttp.MiddlewareHandler = (*RateLimit)(nil)
	_ caddyfile.Unmarshaler       = (*RateLimit)(nil)
)
