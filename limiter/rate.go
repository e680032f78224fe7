package limiter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/llmgate/caddy-llmgate/pricing"
	"github.com/llmgate/caddy-llmgate/units"
)

// rateUnits are the one-letter periods of the rate syntax.
var rateUnits = map[string]time.Duration{
	"s": time.Second,
	"m": time.Minute,
	"h": time.Hour,
	"d": 24 * time.Hour,
}

// ParseRate reads "<count>/<period>": "60/m", "5/s", "1000000/d", or a
// period given as a duration, "100/10s". The count must be positive.
func ParseRate(s string) (Rate, error) {
	count, period, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("invalid rate %q: want <count>/<period>, e.g. 60/m", s)
	}
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("invalid rate %q: the count must be a positive integer", s)
	}
	per, err := parsePeriod(s, period)
	return Rate{Count: n, Per: per}, err
}

// parsePeriod reads the period of rate s: s, m, h, d or a positive
// duration.
func parsePeriod(s, period string) (time.Duration, error) {
	if per, ok := rateUnits[period]; ok {
		return per, nil
	}
	per, err := units.ParseDuration(period)
	if err != nil || per <= 0 {
		return 0, fmt.Errorf("invalid rate %q: the period must be s, m, h, d or a positive duration such as 10s", s)
	}
	return per, nil
}

// MarshalText writes the rate in ParseRate's syntax, with a one-letter
// period where one fits: "60/m", "100/10s".
func (r Rate) MarshalText() ([]byte, error) {
	return appendPeriod(strconv.AppendInt(nil, r.Count, 10), r.Per), nil
}

// appendPeriod appends "/" and the period, one letter where one fits.
func appendPeriod(b []byte, per time.Duration) []byte {
	for _, u := range []string{"s", "m", "h", "d"} {
		if rateUnits[u] == per {
			return append(append(b, '/'), u...)
		}
	}
	return append(append(b, '/'), per.String()...)
}

// UnmarshalText reads the rate with ParseRate.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	*r = v
	return err
}

// CostRate is a rate of money: Count microdollars per Per. Its text gives
// the amount in USD: "25/d", "0.50/h".
type CostRate Rate

// ParseCostRate reads "<USD>/<period>": "25/d", "0.50/h", "100/30d". The
// amount must be positive, in whole microdollars at the finest.
func ParseCostRate(s string) (CostRate, error) {
	amount, period, ok := strings.Cut(s, "/")
	if !ok {
		return CostRate{}, fmt.Errorf("invalid cost rate %q: want <USD>/<period>, e.g. 25/d", s)
	}
	m, err := pricing.ParseUSD(amount)
	if err != nil {
		return CostRate{}, fmt.Errorf("invalid cost rate %q: %v", s, err)
	}
	if m <= 0 {
		return CostRate{}, fmt.Errorf("invalid cost rate %q: the amount must be positive", s)
	}
	per, err := parsePeriod(s, period)
	return CostRate{Count: int64(m), Per: per}, err
}

// IsZero reports whether the rate is unset.
func (r CostRate) IsZero() bool { return Rate(r).IsZero() }

// MarshalText writes the rate in ParseCostRate's syntax.
func (r CostRate) MarshalText() ([]byte, error) {
	return appendPeriod(pricing.Micros(r.Count).AppendUSD(nil), r.Per), nil
}

// UnmarshalText reads the rate with ParseCostRate.
func (r *CostRate) UnmarshalText(b []byte) error {
	v, err := ParseCostRate(string(b))
	*r = v
	return err
}
