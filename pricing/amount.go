package pricing

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Micros is an amount of money in millionths of a USD.
type Micros int64

// microsPerUSD is the Micros in one USD.
const microsPerUSD = 1_000_000

// ParseUSD reads an amount in USD written as a decimal, "25" or "0.50",
// to the microdollar; finer fractions are refused. It must not be
// negative.
func ParseUSD(s string) (Micros, error) {
	n, exact, err := parseDecimal(s, 6, maxMicros)
	if err != nil {
		return 0, fmt.Errorf("invalid amount %q: %v", s, err)
	}
	if !exact {
		return 0, fmt.Errorf("invalid amount %q: finer than a millionth of a USD", s)
	}
	return Micros(n), nil
}

// maxMicros bounds amounts: ten million USD, beyond any budget of one
// window, and small enough that a sum in picodollars fits 64 bits.
const maxMicros = 10_000_000 * microsPerUSD

// String writes m in USD with two decimals at least, and more only where
// the amount has them: "$25.00", "$0.000375".
func (m Micros) String() string { return "$" + string(m.AppendUSD(nil)) }

// AppendUSD appends m in USD, as String writes it without the "$".
func (m Micros) AppendUSD(b []byte) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	b = strconv.AppendInt(b, int64(m/microsPerUSD), 10)
	frac := int64(m % microsPerUSD)
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := 6
	for end > 2 && digits[end-1] == '0' {
		end--
	}
	return append(append(b, '.'), digits[:end]...)
}

// parseDecimal reads s, a non-negative decimal number as JSON writes one
// ("0.15", "1.5e-07"), as an integer count of 10^-scale units: exact
// reports that nothing finer was cut off. The count is rounded up, so that
// a positive amount never reads as zero. Numbers above limit are refused.
func parseDecimal(s string, scale int, limit int64) (n int64, exact bool, err error) {
	if !isNumber(s) {
		return 0, false, errors.New("not a decimal number")
	}
	var r big.Rat
	if _, ok := r.SetString(s); !ok {
		return 0, false, errors.New("not a decimal number")
	}
	if r.Sign() < 0 {
		return 0, false, errors.New("negative")
	}
	r.Mul(&r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > limit {
		return 0, false, errors.New("too large")
	}
	return q.Int64(), rem.Sign() == 0, nil
}

// isNumber reports whether s is a number in JSON's grammar, with a '-'
// allowed (refused later with a clearer message): what big.Rat reads
// beyond it (fractions, hexadecimal) is no price.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, hasFrac := strings.Cut(mant, ".")
	if !digits(whole) || hasFrac && !digits(frac) {
		return false
	}
	if hasExp {
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		return digits(exp) && len(exp) <= 3
	}
	return true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
