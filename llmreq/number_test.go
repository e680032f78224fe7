package llmreq

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestAddDecimal checks the sum of a long exponent and an adjustment
// against math/big, at the carries and borrows that change the length.
func TestAddDecimal(t *testing.T) {
	exps := []string{
		"1000000000000000000", "9999999999999999999", "1000000000000000000000000",
		"10000000000000000001", "99999999999999999999999999", "123456789012345678901234567890",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b strings.Builder
		b.WriteByte(byte('1' + rng.IntN(9)))
		for range 19 + rng.IntN(40) {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		exps = append(exps, b.String())
	}
	adjusts := []int64{0, 1, -1, 9, -9, 10, -10, 999999, -999999, 1 << 40, -(1 << 40)}
	for range 50 {
		adjusts = append(adjusts, rng.Int64N(1<<50)-(1<<49))
	}
	for _, e := range exps {
		for _, k := range adjusts {
			want, _ := new(big.Int).SetString(e, 10)
			want.Add(want, big.NewInt(k))
			if got := string(addDecimal([]byte("x"), []byte(e), k)); got != "x"+want.String() {
				t.Fatalf("%s + %d = %s, want %s", e, k, got, want)
			}
		}
	}
}

// TestHugeExponentsExact: exponents far beyond int64 are added to
// exactly, whatever their length.
func TestHugeExponentsExact(t *testing.T) {
	nines := strings.Repeat("9", 100000)
	for _, tc := range []struct{ in, want string }{
		{"10e" + nines, "1e1" + strings.Repeat("0", 100000)},
		{"0.1e1" + strings.Repeat("0", 100000), "1e" + nines},
		{"100e-1" + strings.Repeat("0", 30), "1e-" + strings.Repeat("9", 29) + "8"},
		{"-1.5e-" + nines, "-15e-1" + strings.Repeat("0", 100000)},
		{"1e" + strconv.Itoa(1) + strings.Repeat("0", 19), "1e1" + strings.Repeat("0", 19)},
	} {
		q, err := Parse([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if string(q.Canonical) != tc.want {
			t.Errorf("%.40s… → %.40s…, want %.40s…", tc.in, q.Canonical, tc.want)
		}
	}
}
