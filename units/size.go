package units

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/dustin/go-humanize"
)

// Size is a byte count that reads "256MiB", "1MB" or "4096" from JSON
// strings and Caddyfile tokens, and plain integers from JSON numbers. It is
// written to JSON as an integer.
type Size int64

// ParseSize reads a byte size with an optional SI or IEC unit.
func ParseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil || n > math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 4096, 512KiB, 256MiB)", s)
	}
	return int64(n), nil
}

// UnmarshalJSON accepts a size string or an integer.
func (z *Size) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseSize(s)
		*z = Size(v)
		return err
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("invalid size %s", b)
	}
	*z = Size(n)
	return nil
}
