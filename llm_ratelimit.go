package llmgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	llmcaddyfile "github.com/llmgate/caddy-llmgate/caddyfile"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/pricing"
	ulule "github.com/ulule/limiter/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// RateLimit is the llm_ratelimit handler: it admits a request only when
// every zone that applies to it has room, and answers 429 in the shape
// OpenAI SDKs retry on otherwise. Token zones reserve an estimate at
// admission and settle it to the answer's usage.
//
// This handler sets these placeholders:
//
// Placeholder | Description
// ------------|-------------
// `{http.llm.ratelimit.zone}` | the zone that refused the request
// `{http.llm.usage.prompt_tokens}` | the prompt tokens of the answer, when a token zone applies: as the upstream reported them, or estimated
// `{http.llm.usage.completion_tokens}` | the completion tokens of the answer, likewise
// `{http.llm.usage.total_tokens}` | their sum
// `{http.llm.cost}` | what the answer cost in USD, when a cost zone applies: its usage priced by the request's model; 0 for a cache hit or an error
// `{http.llm.model}` | the `model` of the JSON body, once a handler or matcher read it
type RateLimit struct {
	limiter.Config

	// Where bucket and window state is kept. Default: memory.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=http.llm_ratelimit.storage inline_key=backend"`

	limiter *limiter.Limiter
	// zones are in the order given to the limiter.
	zones []rateZone
	style limiter.HeaderStyle
	// redis is set when the zones' state is in Redis.
	redis    bool
	inflight []string
	counts   map[string]zoneCounts
	debug    *zap.Logger // every request, at debug level only
}

// rateZone is how one zone finds a request's key.
type rateZone struct {
	// key is the placeholder of the key, "static", or "" for the
	// caller's credential (llmreq.Credential).
	key   string
	match caddyhttp.MatcherSets
}

// sharedSlots is implemented by the storage modules that keep
// concurrency slots for every instance (Redis): the zones' caps then hold
// across instances.
type sharedSlots interface {
	SlotStore() limiter.SlotStore
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
	if err := h.Validate(); err != nil {
		return err
	}
	registerMetrics(ctx)
	warnUnredactedLogs(ctx)
	h.debug = ctx.Logger()
	failClosed, _ := h.FailClosed()
	h.style, _ = limiter.ParseHeaderStyle(string(h.Headers))
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
	h.counts = newZoneCounts(names)
	zones := make([]limiter.Zone, 0, len(names))
	for _, name := range names {
		zc := h.Zones[name]
		z := zc.Zone(name)
		if !z.Requests.IsZero() || z.Metered() {
			if z.Buckets, z.Windows, err = storage.RateLimitStores(zoneID(z)); err != nil {
				return fmt.Errorf("zone %s: %v", name, err)
			}
		}
		if z.Concurrency > 0 {
			var key string
			z.InFlight, key = inFlightTable(name)
			h.inflight = append(h.inflight, key)
			if shared, ok := storage.(sharedSlots); ok {
				z.Slots = shared.SlotStore()
			}
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
	}
	prices, err := h.PriceTable()
	if err != nil {
		return fmt.Errorf("prices_file: %v", err)
	}
	warnUnpriced(ctx.Logger(), zones, prices)
	h.limiter, err = limiter.New(zones, limiter.Options{
		FailClosed:  failClosed,
		OnError:     storeFailures(ctx.Logger(), "rate limit store", zap.Bool("fail_closed", failClosed)),
		Free:        func(r *http.Request) bool { return state(r).cache.Served() },
		StreamUsage: h.StreamUsage == nil || *h.StreamUsage,
		Prices:      prices,
		Report:      h.report,
		Memo:        bodyMemo,
	})
	if err != nil {
		return err
	}
	liveLimiters.add(h.limiter, h.limiter)
	return nil
}

// Validate checks the options. Provision checks them first, so nothing is
// set up from a bad config.
func (h *RateLimit) Validate() error {
	if _, err := h.FailClosed(); err != nil {
		return fmt.Errorf("on_storage_error: %v", err)
	}
	if _, err := limiter.ParseHeaderStyle(string(h.Headers)); err != nil {
		return fmt.Errorf("headers: %v", err)
	}
	if len(h.Zones) == 0 {
		return errors.New("llm_ratelimit: no zone defined")
	}
	for name, zc := range h.Zones {
		if err := zc.Zone(name).Validate(); err != nil {
			return err
		}
	}
	return h.CheckPrices()
}

// Cleanup releases the concurrency tables and the limiter.
func (h *RateLimit) Cleanup() error {
	err := release(memoryPool, h.inflight...)
	if h.limiter != nil {
		liveLimiters.remove(h.limiter)
		err = errors.Join(err, h.limiter.Close())
	}
	return err
}

// ServeHTTP admits the request in every zone that applies to it, or
// refuses it.
func (h *RateLimit) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// The keys of a few zones stay on the stack: the limiter keeps none.
	var buf [4]string
	keys := buf[:]
	if len(h.zones) > len(buf) {
		keys = make([]string, len(h.zones))
	}
	keys = keys[:len(h.zones)]
	err := h.keys(r, keys)
	if llmreq.WriteRefusal(w, r, err) {
		return nil
	}
	if err != nil {
		return err
	}
	withPlaceholders(r)
	if h.redis {
		r = withRedisBudget(r)
	}
	return h.limiter.Serve(w, r, keys, h.style, next)
}

// report publishes how a request went (placeholders, metrics) and, at
// debug level, says when its tokens were charged by estimate because the
// answer reported no usage.
func (h *RateLimit) report(r *http.Request, rep limiter.Report) {
	publishLimit(r, rep)
	countLimit(rep, h.counts)
	if rep.Exact || rep.Usage.Total == 0 {
		return
	}
	if ce := h.debug.Check(zapcore.DebugLevel, "tokens charged by estimate: the answer reported no usage"); ce != nil {
		model := ""
		if q := state(r).body.Known(); q != nil {
			model = q.Model
		}
		ce.Write(zap.String("model", model), zap.String("path", r.URL.Path), zap.Int64("estimated_tokens", rep.Usage.Total))
	}
}

// zoneID names the state of z: a reload keeps a zone's counts when its
// name, rates, burst and algorithm are unchanged.
func zoneID(z limiter.Zone) string {
	id := z.Name
	for _, rate := range []limiter.Rate{z.Requests, z.Tokens, z.TokensIn, z.TokensOut, z.Cost} {
		text, _ := rate.MarshalText()
		id += "|" + string(text)
	}
	return id + "|" + strconv.FormatInt(z.Burst, 10) + "|" + string(z.Algorithm)
}

// warnUnpriced says, when the config loads, that cost zones refuse the
// models prices has no price for: without a "*" entry, every model the
// listed names and globs do not match.
func warnUnpriced(log *zap.Logger, zones []limiter.Zone, prices *pricing.Table) {
	if prices.PricesAll() {
		return
	}
	var costZones []string
	for _, z := range zones {
		if !z.Cost.IsZero() {
			costZones = append(costZones, z.Name)
		}
	}
	if len(costZones) == 0 {
		return
	}
	priced := prices.Globs()
	if len(priced) > maxListed {
		priced = append(priced[:maxListed], fmt.Sprintf("and %d more", len(priced)-maxListed))
	}
	log.Warn("cost zones refuse models with no price (400); add a \"*\" price to price every other model",
		zap.Strings("zones", costZones), zap.Strings("priced", priced))
}

// maxListed bounds the priced models a warning lists: a price file holds
// thousands.
const maxListed = 20

// anonymous is the key of a request whose key placeholder is empty: all
// such requests share one bucket rather than escaping the limit.
const anonymous = "\x00anonymous"

// keys sets r's key in each zone in keys (one per zone), "" where a
// zone's matchers exclude it. A request with two different credentials
// has no key of its own in a zone keyed on the credential: keys returns
// ErrConflictingCredentials, and the request is refused before any zone
// counts it.
func (h *RateLimit) keys(r *http.Request, keys []string) error {
	var repl *caddy.Replacer
	for i, z := range h.zones {
		if z.match != nil {
			ok, err := z.match.AnyMatchWithError(r)
			if err != nil {
				return caddyhttp.Error(http.StatusBadRequest, err)
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
				return err
			}
		case "static":
			k = "static"
		default:
			if repl == nil {
				repl = replacer(r)
			}
			k = repl.ReplaceAll(z.key, "")
		}
		if k == "" {
			k = anonymous
		}
		keys[i] = k
	}
	return nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens; the syntax
// is on llmcaddyfile.ParseRateLimit.
func (h *RateLimit) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	cfg, storage, err := llmcaddyfile.ParseRateLimit(d)
	if err != nil {
		return err
	}
	h.Config, h.StorageRaw = cfg, storage
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*RateLimit)(nil)
	_ caddy.Validator             = (*RateLimit)(nil)
	_ caddy.CleanerUpper          = (*RateLimit)(nil)
	_ caddyhttp.MiddlewareHandler = (*RateLimit)(nil)
	_ caddyfile.Unmarshaler       = (*RateLimit)(nil)
)
