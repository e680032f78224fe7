package limiter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	ulule "github.com/ulule/limiter/v3"
)

// Rate is Count events per Per.
type Rate struct {
	// Count is the number of events allowed in Per.
	Count int64
	// Per is the period Count applies to.
	Per time.Duration
}

// IsZero reports whether the rate is unset.
func (r Rate) IsZero() bool { return r.Count == 0 && r.Per == 0 }

// String renders the rate as "60 per 1m0s".
func (r Rate) String() string {
	return strconv.FormatInt(r.Count, 10) + " per " + r.Per.String()
}

// interval is the emission interval: the time one event adds to a bucket.
// It is rounded up so the bucket never admits more than the rate.
func (r Rate) interval() time.Duration {
	return (r.Per-1)/time.Duration(r.Count) + 1
}

// Algorithm names how a zone enforces its rates.
type Algorithm string

// The algorithms a zone can use.
const (
	// TokenBucket admits up to Burst requests at once, refills at the rate,
	// and refuses the excess at once.
	TokenBucket Algorithm = "token_bucket"
	// LeakyBucket lets requests leave at the rate; up to Burst requests wait
	// in the bucket for their turn (bounded by MaxWait), the excess is refused.
	LeakyBucket Algorithm = "leaky_bucket"
	// FixedWindow counts requests in windows of the rate's period; it suits
	// long quotas such as 1000 per day.
	FixedWindow Algorithm = "fixed_window"
)

// maxHorizon bounds how far ahead a bucket may reach, so the nanosecond
// arithmetic of the stores cannot overflow.
const maxHorizon = time.Duration(math.MaxInt64 / 4)

// Zone is one limit: a request rate, a token rate, a concurrency cap, or
// any of them together, applied per key.
type Zone struct {
	// Name identifies the zone in answers, headers and stored keys.
	Name string
	// Requests is the request rate; zero when the zone has none.
	Requests Rate
	// Tokens is the rate of LLM tokens (prompt and completion); zero when
	// the zone has none. A request reserves its estimated tokens when it is
	// admitted (Limiter.AdmitSpend) and corrects them to its real usage
	// when its answer ends (Ticket.Settle). The bucket holds one period's
	// tokens, Tokens.Count: Burst does not apply to it.
	Tokens Rate
	// TokensIn and TokensOut are rates of prompt and of generated tokens
	// alone, as Anthropic limits them; reserved and settled as Tokens.
	TokensIn, TokensOut Rate
	// Cost is a rate of money, Count in microdollars (see CostRate), for
	// the usage priced per model (Options.Prices); reserved and settled
	// as Tokens.
	Cost Rate
	// Burst is the bucket depth of Requests: for token_bucket the requests
	// admitted at once, for leaky_bucket the requests that may wait.
	// Default: Requests.Count. Not used by fixed_window.
	Burst int64
	// Algorithm enforces Requests and Tokens; default token_bucket.
	Algorithm Algorithm
	// MaxWait bounds waiting: a leaky_bucket request that would wait longer
	// is refused (zero: bounded by the bucket alone), and a request over the
	// concurrency cap waits at most this long for a slot (zero: refused at
	// once).
	MaxWait time.Duration
	// Concurrency caps the requests of one key in flight; 0 means no cap.
	Concurrency int

	// Buckets keeps token and leaky bucket state; nil uses a memory store
	// owned by the Limiter.
	Buckets BucketStore
	// Windows keeps fixed-window counters; nil uses a ulule memory store
	// owned by the Limiter.
	Windows ulule.Store
	// InFlight counts requests in flight for Concurrency; nil uses a table
	// owned by the Limiter.
	InFlight *InFlight
	// Slots, when set, keeps the Concurrency slots for every server that
	// shares it (a cap across all of them) instead of InFlight. When it
	// fails, the cap falls back to InFlight, this server's own.
	Slots SlotStore
}

// The meters of a zone, by index: requests, then the units of usage a
// request reserves at admission and settles when its answer is done.
const (
	requestMeter = iota
	tokenMeter
	inputMeter
	outputMeter
	costMeter
	numMeters
)

// zone is a validated Zone with its derived parameters.
type zone struct {
	Zone
	// index is the zone's position in the list given to New.
	index int
	// salt makes the zone's stored keys its own.
	salt Key
	// meters are the zone's rates, by meter index.
	meters [numMeters]meter
	// waiting counts the requests waiting in the zone's leaky bucket.
	waiting *atomic.Int64
	// batch is Buckets when it is a BatchStore and the zone's rates are
	// buckets: their charges can join those of other zones in it.
	batch BatchStore
}

// meter is one rate of a zone in the terms of its store: units (requests,
// tokens or microdollars) cost time in a bucket, or count in a window.
type meter struct {
	rate Rate
	kind Kind
	// tweak sets the meter's stored keys apart from the other meters'.
	tweak Key
	// leaky is set for a leaky bucket: depth bounds a request's wait,
	// whatever its own cost.
	leaky bool
	// interval is the time one unit adds to a bucket.
	interval time.Duration
	// depth is the largest backlog a token bucket may hold after a charge,
	// or the longest a leaky bucket request may wait.
	depth time.Duration
	// window is rate in ulule's terms, for fixed_window.
	window ulule.Rate
}

// meterTweaks set the buckets of each meter apart from those of the
// zone's other meters, for the same key; requests have none.
var meterTweaks = [numMeters]Key{
	tokenMeter:  hashRaw("tokens"),
	inputMeter:  hashRaw("input_tokens"),
	outputMeter: hashRaw("output_tokens"),
	costMeter:   hashRaw("cost"),
}

// on reports whether the zone has this rate.
func (m *meter) on() bool { return m.rate.Count > 0 }

// limit is the backlog a charge of cost may leave for Take to admit it.
func (m *meter) limit(cost time.Duration) time.Duration {
	if m.leaky {
		return m.depth + cost
	}
	return m.depth
}

// maxCost bounds the time one charge adds to a bucket, so that usage far
// beyond any rate cannot overflow a store's clock arithmetic.
const maxCost = maxHorizon / 16

// cost is the time n units add to a bucket. One unit always costs its
// interval, however slow the rate.
func (m *meter) cost(n int64) time.Duration {
	return time.Duration(min(n, max(int64(maxCost/m.interval), 1))) * m.interval
}

// newZone validates z and fills in its defaults.
func newZone(z Zone) (zone, error) {
	if z.Name == "" {
		return zone{}, errors.New("limiter: zone without a name")
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("limiter: zone %q: "+format, append([]any{z.Name}, args...)...)
	}
	if z.Algorithm == "" {
		z.Algorithm = TokenBucket
	}
	switch {
	case z.Algorithm != TokenBucket && z.Algorithm != LeakyBucket && z.Algorithm != FixedWindow:
		return zone{}, bad("unknown algorithm %q (want token_bucket, leaky_bucket or fixed_window)", z.Algorithm)
	case z.Burst < 0:
		return zone{}, bad("negative burst %d", z.Burst)
	case z.MaxWait < 0:
		return zone{}, bad("negative max_wait %s", z.MaxWait)
	case z.Concurrency < 0:
		return zone{}, bad("negative concurrency %d", z.Concurrency)
	case z.Requests.IsZero() && !z.Metered() && z.Concurrency == 0:
		return zone{}, bad("limits nothing: set a request rate, a token or cost rate, or a concurrency cap")
	case z.Burst != 0 && z.Requests.IsZero():
		return zone{}, bad("burst without a request rate")
	case z.Burst != 0 && z.Algorithm == FixedWindow:
		return zone{}, bad("burst does not apply to fixed_window")
	}
	rates := z.rates()
	for k, rate := range rates {
		noun := meterKinds[k].noun()
		switch {
		case rate.Count < 0 || rate.Per < 0:
			return zone{}, bad("negative %s rate %s", noun, rate)
		case rate.Count == 0 && rate.Per != 0, rate.Count != 0 && rate.Per == 0:
			return zone{}, bad("%s rate %s needs both a count and a period", noun, rate)
		}
	}
	out := zone{Zone: z}
	for k, rate := range rates {
		// A usage bucket holds one period's units; a request bucket,
		// burst requests.
		depth := rate.Count
		if k == requestMeter && z.Burst != 0 {
			depth = z.Burst
		}
		var deep bool
		if out.meters[k], deep = newMeter(z, rate, meterKinds[k], depth); deep {
			if k == requestMeter {
				return zone{}, bad("burst %d of %s reaches too far ahead", depth, rate)
			}
			return zone{}, bad("%s rate %s reaches too far ahead", meterKinds[k].noun(), rate)
		}
		out.meters[k].tweak = meterTweaks[k]
	}
	return out, nil
}

// meterKinds are the kinds of limit of the meters, by meter index.
var meterKinds = [numMeters]Kind{KindRequests, KindTokens, KindInputTokens, KindOutputTokens, KindCost}

// rates lists z's rates by meter index.
func (z *Zone) rates() [numMeters]Rate {
	return [numMeters]Rate{z.Requests, z.Tokens, z.TokensIn, z.TokensOut, z.Cost}
}

// Metered reports whether z meters usage: tokens or cost, reserved at
// admission and settled to the answer.
func (z *Zone) Metered() bool {
	return !z.Tokens.IsZero() || !z.TokensIn.IsZero() || !z.TokensOut.IsZero() || !z.Cost.IsZero()
}

// newMeter derives the bucket or window of rate in z, a bucket holding
// depth units; a zero rate gives a meter that is off. tooDeep reports a
// bucket deeper than the stores' arithmetic allows.
func newMeter(z Zone, rate Rate, kind Kind, depth int64) (m meter, tooDeep bool) {
	m = meter{rate: rate, kind: kind}
	if !m.on() {
		return m, false
	}
	m.interval = rate.interval()
	if z.Algorithm == FixedWindow {
		m.window = ulule.Rate{Formatted: rate.String(), Period: rate.Per, Limit: rate.Count}
		return m, false
	}
	if depth > int64(maxHorizon/m.interval) {
		return m, true
	}
	m.depth = time.Duration(depth) * m.interval
	// A token bucket admits while the backlog after a charge is within its
	// depth. A leaky bucket admits while a request's wait, the backlog
	// before its charge, is within the queue's reach and MaxWait.
	if z.Algorithm == LeakyBucket {
		m.leaky = true
		if z.MaxWait > 0 && z.MaxWait < m.depth {
			m.depth = z.MaxWait
		}
	}
	return m, false
}
