package llmgate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/keyring"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/provider"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// llmgate's collectors live as long as the process and are registered in
// each loaded config's registry (what Caddy's /metrics shows): a reload
// neither resets nor duplicates them. No label holds a credential; every
// label value goes through labelValue; models are bounded (see
// modelCounters).
var (
	cacheRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "llmgate", Subsystem: "cache", Name: "requests_total",
		Help: "llm_cache requests by result: hit, stored (a miss whose answer was stored), miss, coalesced (shared an identical request's upstream call), bypass.",
	}, []string{"result"})
	cacheSaved = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "llmgate", Subsystem: "cache", Name: "upstream_calls_saved_total",
		Help: "Requests llm_cache answered without an upstream call of their own: hits and coalesced requests.",
	})
	limitDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "llmgate", Subsystem: "ratelimit", Name: "decisions_total",
		Help: "llm_ratelimit decisions by zone and result: allowed (in every zone that applied) or refused (by this zone).",
	}, []string{"zone", "result"})
	authRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "llmgate", Subsystem: "auth", Name: "requests_total",
		Help: "llm_auth decisions by result: allowed, no_key, unknown_key, expired, several_keys, model (a model the key may not use).",
	}, []string{"result"})
	tokensTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "llmgate", Name: "tokens_total",
		Help: "LLM tokens of answers that passed llm_ratelimit token zones, by model, kind (prompt, completion) and source (reported by the upstream, or estimated).",
	}, []string{"model", "kind", "source"})
	costTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "llmgate", Name: "cost_usd_total",
		Help: "USD charged to llm_ratelimit cost zones, the answers' usage priced per model, by model and zone.",
	}, []string{"model", "zone"})
	providerAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "llmgate", Subsystem: "provider", Name: "attempts_total",
		Help: "llm_provider attempts upstream by key (its fingerprint) and result: ok, limited (429), server_error (5xx), refused (401), client_error, failed (no answer).",
	}, []string{"key", "result"})
	cacheEntries = prometheus.NewDesc("llmgate_cache_entries", "Entries held by llm_cache memory stores and local tiers.", nil, nil)
	cacheBytes   = prometheus.NewDesc("llmgate_cache_bytes", "Bytes held by llm_cache memory stores and local tiers, as counted against max_size and local.", nil, nil)
	queueDepth   = prometheus.NewDesc("llmgate_ratelimit_queue_depth", "Requests waiting in llm_ratelimit leaky buckets, by zone.", []string{"zone"}, nil)
)

// heldCollector reports what the live stores and limiters hold now.
type heldCollector struct{}

func (heldCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheEntries
	ch <- cacheBytes
	ch <- queueDepth
}

func (heldCollector) Collect(ch chan<- prometheus.Metric) {
	var st cache.Stats
	for _, m := range liveMemory.list() {
		s, _ := m.Stats(context.Background())
		st.Entries += s.Entries
		st.Bytes += s.Bytes
	}
	ch <- prometheus.MustNewConstMetric(cacheEntries, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(cacheBytes, prometheus.GaugeValue, float64(st.Bytes))
	depth := map[string]int64{}
	for _, l := range liveLimiters.list() {
		l.Waiting(func(zone string, n int64) { depth[zone] += n })
	}
	for zone, n := range depth {
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(n), labelValue(zone))
	}
}

var collectors = []prometheus.Collector{authRequests, cacheRequests, cacheSaved, limitDecisions, tokensTotal, costTotal, providerAttempts, heldCollector{}}

// registerMetrics adds llmgate's collectors to the config's registry, once
// per config however many handlers call it.
func registerMetrics(ctx caddy.Context) {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				ctx.Logger().Warn("registering llmgate metrics", zap.Error(err))
			}
		}
	}
}

// zoneCounts are a zone's decision counters, found when its handler is
// provisioned: counting a decision hashes no label.
type zoneCounts struct{ allowed, refused prometheus.Counter }

// newZoneCounts returns the decision counters of each zone.
func newZoneCounts(zones []string) map[string]zoneCounts {
	m := make(map[string]zoneCounts, len(zones))
	for _, z := range zones {
		m[z] = zoneCounts{counter(limitDecisions, z, "allowed"), counter(limitDecisions, z, "refused")}
	}
	return m
}

// countLimit counts a rate-limit decision, in zones' counters, and the
// tokens and USD its answer cost. zones holds every zone of the limiter
// that decided: a decision names no other.
func countLimit(rep limiter.Report, zones map[string]zoneCounts) {
	if t := rep.Ticket; t != nil {
		if !t.Allowed {
			zones[t.Zone].refused.Inc()
		} else {
			sts := t.Statuses()
			for i, st := range sts {
				// A zone has a status per limit: count it once.
				if !slices.ContainsFunc(sts[:i], func(o limiter.Status) bool { return o.Zone == st.Zone }) {
					zones[st.Zone].allowed.Inc()
				}
			}
		}
	}
	u := rep.Usage
	if u.Total <= 0 && rep.Cost <= 0 {
		return
	}
	// The model the upstream says served the answer: a caller can name
	// any model it likes, but not make the upstream answer with it.
	mc := modelCounters(u.Model)
	if u.Total > 0 {
		source := estimated
		if rep.Exact {
			source = reported
		}
		mc.tokens[prompt][source].Add(float64(u.Input))
		mc.tokens[completion][source].Add(float64(u.Output))
	}
	if rep.Cost > 0 {
		model := mc.label
		usd := float64(rep.Cost) / 1e6
		sts := rep.Ticket.Statuses()
		for i, st := range sts {
			if st.Kind == limiter.KindCost && !slices.ContainsFunc(sts[:i], func(o limiter.Status) bool { return o.Zone == st.Zone && o.Kind == st.Kind }) {
				counter(costTotal, model, st.Zone).Add(usd)
			}
		}
	}
}

// countAttempt counts an llm_provider attempt. Keys are a config's pool:
// the label is bounded.
func countAttempt(k *provider.Key, res provider.Result) {
	counter(providerAttempts, k.ID, string(res)).Inc()
}

// countAuth counts an llm_auth decision: err is why the request was
// refused, nil when it was let through.
func countAuth(err error) {
	result := authAllowed
	switch {
	case err == nil:
	case errors.Is(err, keyring.ErrNoKey):
		result = authNoKey
	case errors.Is(err, keyring.ErrUnknownKey):
		result = authUnknownKey
	case errors.Is(err, keyring.ErrExpired):
		result = authExpired
	case errors.Is(err, keyring.ErrSeveralKeys):
		result = authSeveralKeys
	default:
		result = authModel
	}
	authCounts[result].Inc()
}

// The results of an llm_auth decision, authRequests' label values.
const (
	authAllowed = iota
	authNoKey
	authUnknownKey
	authExpired
	authSeveralKeys
	authModel
	authResults
)

// authCounts are authRequests' counters by result, found once.
var authCounts = func() (c [authResults]prometheus.Counter) {
	for i, v := range [authResults]string{"allowed", "no_key", "unknown_key", "expired", "several_keys", "model"} {
		c[i] = counter(authRequests, v)
	}
	return c
}()

// countCache counts what llm_cache did with a request, once it is done. A
// request it refused (two different credentials) has no result.
func countCache(res cache.Result) {
	if res.Outcome == 0 {
		return
	}
	i := int(res.Outcome)
	if res.Stored {
		i = 0
	}
	cacheCounts[i].Inc()
	if res.Served() {
		cacheSaved.Inc()
	}
}

// cacheCounts are cacheRequests' counters, by Outcome and at 0 "stored":
// found once, so that counting a hit hashes no label.
var cacheCounts = func() (c [cache.Coalesced + 1]prometheus.Counter) {
	c[0] = counter(cacheRequests, "stored")
	for o := cache.Bypass; o <= cache.Coalesced; o++ {
		c[o] = counter(cacheRequests, o.String())
	}
	return c
}()

// maxModels bounds the model label: the first models seen get their own
// value, later ones count as "other". Only models upstreams answered with
// are counted (see usage.Usage.Model), so a caller's made-up names cannot
// fill the set and push the real models into "other".
const maxModels = 100

// modelCounts are the counters of one value of the model label, found
// when the value is first seen.
type modelCounts struct {
	label  string
	tokens [2][2]prometheus.Counter // by kind and source
}

// The indexes of modelCounts.tokens.
const (
	prompt, completion  = 0, 1
	estimated, reported = 0, 1
)

var models = struct {
	sync.Mutex
	seen  map[string]*modelCounts
	named int // the values in seen that are models, not "unknown" or "other"
}{seen: map[string]*modelCounts{}}

// modelCounters returns the counters of the model label's value for
// model: the model itself while the label set has room, "other" after,
// and "unknown" for no model.
func modelCounters(model string) *modelCounts {
	label := "unknown"
	if model != "" {
		label = labelValue(model)
	}
	models.Lock()
	defer models.Unlock()
	if mc := models.seen[label]; mc != nil {
		return mc
	}
	if model != "" {
		if models.named >= maxModels {
			label = "other"
			if mc := models.seen[label]; mc != nil {
				return mc
			}
		} else {
			models.named++
		}
	}
	mc := &modelCounts{label: label}
	for k, kind := range [...]string{prompt: "prompt", completion: "completion"} {
		for s, source := range [...]string{estimated: "estimated", reported: "reported"} {
			mc.tokens[k][s] = counter(tokensTotal, label, kind, source)
		}
	}
	models.seen[label] = mc
	return mc
}

// maxLabel bounds a label value, in bytes.
const maxLabel = 128

// labelValue makes s fit to be a label value: Prometheus refuses (with a
// panic, from WithLabelValues) a value that is not valid UTF-8, and a
// model name is whatever bytes a request or an answer held. Invalid bytes
// become U+FFFD; a value is cut to maxLabel bytes, on a rune boundary.
func labelValue(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxLabel {
		return s
	}
	cut := maxLabel
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// counter returns vec's counter of the label values, each made fit by
// labelValue: every counter llmgate counts is found through it.
func counter(vec *prometheus.CounterVec, values ...string) prometheus.Counter {
	for i, v := range values {
		values[i] = labelValue(v)
	}
	return vec.WithLabelValues(values...)
}
