package llmreq

import (
	"strconv"
)

// Numbers are normalised exactly, on their decimal text, never through
// float64: a value is a sign, its significant digits D (no leading or
// trailing zeros) and an exponent X, value = ±D × 10^X. The canonical text is
// "0" for zero; otherwise the sign ("-" or nothing), then D followed by X
// zeros when 0 <= X <= maxPlainZeros, else D "e" X (X may be negative).
// So 1, 1.0, 10e-1 and 1E0 are all "1", 100 and 1e2 are "100", 1.5 is
// "15e-1", and integers keep every digit however long.

// maxPlainZeros is the most trailing zeros an integer is written out with.
const maxPlainZeros = 20

// maxSmallExp is the most exponent digits handled in int64 arithmetic.
const maxSmallExp = 18

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits returns the index of the first non-digit at or after i.
func digits(in []byte, i int) int {
	for i < len(in) && isDigit(in[i]) {
		i++
	}
	return i
}

// number scans the JSON number at p.in[i] and appends its canonical form.
func (p *parser) number(i int) (int, error) {
	in := p.in
	start := i
	neg := in[i] == '-'
	if neg {
		i++
	}
	intStart := i
	switch {
	case i == len(in) || !isDigit(in[i]):
		return 0, p.fail(start, "invalid number")
	case in[i] == '0':
		i++ // a leading zero stands alone; a digit after it ends the number
	default:
		i = digits(in, i)
	}
	intPart := in[intStart:i]
	if i == len(in) || (in[i] != '.' && in[i] != 'e' && in[i] != 'E') {
		// A plain integer is canonical already unless it is -0 or might
		// end in more than maxPlainZeros zeros.
		if len(intPart) <= maxPlainZeros+1 && !(neg && intPart[0] == '0') {
			p.buf = append(p.buf, in[start:i]...)
			return i, nil
		}
		p.normalize(neg, intPart, nil, false, nil)
		return i, nil
	}
	var frac, exp []byte
	if in[i] == '.' {
		fracStart := i + 1
		if i = digits(in, fracStart); i == fracStart {
			return 0, p.fail(start, "invalid number")
		}
		frac = in[fracStart:i]
	}
	expNeg := false
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			expNeg = in[i] == '-'
			i++
		}
		expStart := i
		if i = digits(in, expStart); i == expStart {
			return 0, p.fail(start, "invalid number")
		}
		exp = in[expStart:i]
	}
	p.normalize(neg, intPart, frac, expNeg, exp)
	return i, nil
}

// normalize appends the canonical form of the number with the given integer
// digits, fraction digits and exponent digits.
func (p *parser) normalize(neg bool, intPart, frac []byte, expNeg bool, exp []byte) {
	start := len(p.buf)
	if neg {
		p.buf = append(p.buf, '-')
	}
	ds := len(p.buf)
	p.buf = append(p.buf, intPart...)
	p.buf = append(p.buf, frac...)
	d := p.buf[ds:]
	lead := 0
	for lead < len(d) && d[lead] == '0' {
		lead++
	}
	if lead == len(d) {
		p.buf = append(p.buf[:start], '0') // every zero, -0 included
		return
	}
	trail := 0
	for d[len(d)-1-trail] == '0' {
		trail++
	}
	p.buf = p.buf[:ds+copy(d, d[lead:len(d)-trail])]

	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	adjust := int64(trail - len(frac))
	if len(exp) > maxSmallExp {
		// |exponent| >= 10^18 dwarfs any adjustment a body can hold, so
		// the result keeps the exponent's sign and is never in the plain
		// range. The sum is worked out on the digits, in time linear in
		// their number: an exponent of a million digits costs a copy.
		p.buf = append(p.buf, 'e')
		if expNeg {
			p.buf = append(p.buf, '-')
			adjust = -adjust // -(|x| - adjust)
		}
		p.buf = addDecimal(p.buf, exp, adjust)
		return
	}
	var x int64
	for _, c := range exp {
		x = x*10 + int64(c-'0')
	}
	if expNeg {
		x = -x
	}
	x += adjust
	if x >= 0 && x <= maxPlainZeros {
		for range x {
			p.buf = append(p.buf, '0')
		}
		return
	}
	p.buf = strconv.AppendInt(append(p.buf, 'e'), x, 10)
}

// addDecimal appends the decimal digits of d + k, where d is a run of
// digits without leading zeros and d + k > 0. |k| must be below the value
// of d's first maxSmallExp digits. Only the digits a carry or borrow
// reaches are touched, so the cost is one copy of d.
func addDecimal(dst, d []byte, k int64) []byte {
	start := len(dst)
	dst = append(dst, d...)
	digits := dst[start:]
	neg := k < 0
	if neg {
		k = -k
	}
	carry := int64(0) // for a sum, the carry; for a difference, the borrow
	for i := len(digits) - 1; i >= 0 && (k > 0 || carry > 0); i-- {
		v := int64(digits[i]-'0') + carry
		if neg {
			v = int64(digits[i]-'0') - k%10 - carry
			carry = 0
			if v < 0 {
				v, carry = v+10, 1
			}
		} else {
			v += k % 10
			carry = v / 10
			v %= 10
		}
		digits[i] = byte('0' + v)
		k /= 10
	}
	if carry > 0 { // a sum one digit longer: 999 + 1
		dst = append(dst[:start+1], dst[start:]...)
		dst[start] = '1'
		return dst
	}
	lead := 0 // a difference may lose leading digits: 1000 - 1
	for lead < len(digits)-1 && digits[lead] == '0' {
		lead++
	}
	return dst[:start+copy(digits, digits[lead:])]
}
