package limiter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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
	per, ok := rateUnits[period]
	if !ok {
		if per, err = units.ParseDuration(period); err != nil || per <= 0 {
			return Rate{}, fmt.Errorf("invalid rate %q: the period must be s, m, h, d or a positive duration such as 10s", s)
		}
	}
	return Rate{Count: n, Per: per}, nil
}

// MarshalText writes the rate in ParseRate's syntax, with a one-letter
// period where one fits: "60/m", "100/10s".
func (r Rate) MarshalText() ([]byte, error) {
	for _, u := range []string{"s", "m", "h", "d"} {
		if rateUnits[u] == r.Per {
			return []byte(strconv.FormatInt(r.Count, 10) + "/" + u), nil
		}
	}
	return []byte(strconv.FormatInt(r.Count, 10) + "/" + r.Per.String()), nil
}

// UnmarshalText reads the rate with ParseRate.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	*r = v
	return err
}
