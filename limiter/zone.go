package limiter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
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

// Algorithm names how a zone enforces its request rate.
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

// Zone is one limit: a rate, a concurrency cap, or both, applied per key.
type Zone struct {
	// Name identifies the zone in answers, headers and stored keys.
	Name string
	// Requests is the request rate; zero when the zone only caps concurrency.
	Requests Rate
	// Burst is the bucket depth: for token_bucket the requests admitted at
	// once, for leaky_bucket the requests that may wait. Default:
	// Requests.Count. Not used by fixed_window.
	Burst int64
	// Algorithm enforces Requests; default token_bucket.
	Algorithm Algorithm
	// MaxWait bounds waiting: a leaky_bucket request that would wait longer
	// is refused (zero: bounded by Burst alone), and a request over the
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
}

// zone is a validated Zone with its derived bucket parameters.
type zone struct {
	Zone
	// index is the zone's position in the list given to New.
	index int
	// salt makes the zone's stored keys its own.
	salt Key
	// interval is the time one request adds to a bucket.
	interval time.Duration
	// tolerance is the largest backlog a bucket may hold after a charge.
	tolerance time.Duration
	// window is Requests in ulule's terms, for fixed_window.
	window ulule.Rate
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
	case z.Requests.Count < 0 || z.Requests.Per < 0:
		return zone{}, bad("negative rate %s", z.Requests)
	case z.Requests.Count == 0 && z.Requests.Per != 0, z.Requests.Count != 0 && z.Requests.Per == 0:
		return zone{}, bad("rate %s needs both a count and a period", z.Requests)
	case z.Burst < 0:
		return zone{}, bad("negative burst %d", z.Burst)
	case z.MaxWait < 0:
		return zone{}, bad("negative max_wait %s", z.MaxWait)
	case z.Concurrency < 0:
		return zone{}, bad("negative concurrency %d", z.Concurrency)
	case z.Requests.IsZero() && z.Concurrency == 0:
		return zone{}, bad("limits nothing: set a request rate or a concurrency cap")
	}
	out := zone{Zone: z}
	if z.Requests.IsZero() {
		if z.Burst != 0 {
			return zone{}, bad("burst without a request rate")
		}
		return out, nil
	}
	out.interval = z.Requests.interval()
	if z.Algorithm == FixedWindow {
		if z.Burst != 0 {
			return zone{}, bad("burst does not apply to fixed_window")
		}
		out.window = ulule.Rate{Formatted: z.Requests.String(), Period: z.Requests.Per, Limit: z.Requests.Count}
		return out, nil
	}
	if z.Burst == 0 {
		out.Burst = z.Requests.Count
	}
	if out.Burst > int64(maxHorizon/out.interval) {
		return zone{}, bad("burst %d of %s reaches too far ahead", out.Burst, z.Requests)
	}
	// A token bucket admits while the backlog after a charge is within its
	// depth. A leaky bucket admits while a request's wait is within the
	// queue's reach (and MaxWait); the store compares the backlog after the
	// charge, which is one interval more than the wait.
	out.tolerance = time.Duration(out.Burst) * out.interval
	if z.Algorithm == LeakyBucket {
		if z.MaxWait > 0 && z.MaxWait < out.tolerance {
			out.tolerance = z.MaxWait
		}
		out.tolerance += out.interval
	}
	return out, nil
}
