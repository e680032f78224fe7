package pricing

import "testing"

// FuzzParsePrice: any text either fails or reads as a price within the
// bound that writes back to the same price; amounts likewise.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"0.15", "3", "1.5e-07", "-1", "1e400", "0x10", "1/3", "", ".5", "5.", "1e-12", "999999.9999995"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePerMillion(s); err == nil {
			if p < 0 || p > maxPerMillion {
				t.Fatalf("ParsePerMillion(%q) = %d, out of bounds", s, p)
			}
			text, _ := p.MarshalText()
			if back, err := ParsePerMillion(string(text)); err != nil || back != p {
				t.Fatalf("ParsePerMillion(%q) = %d, written %q, read back %d, %v", s, p, text, back, err)
			}
		}
		if m, err := ParseUSD(s); err == nil {
			if m < 0 || m > maxMicros {
				t.Fatalf("ParseUSD(%q) = %d, out of bounds", s, m)
			}
			if back, err := ParseUSD(string(m.AppendUSD(nil))); err != nil || back != m {
				t.Fatalf("ParseUSD(%q) = %d, written %s, read back %d, %v", s, m, m, back, err)
			}
		}
	})
}
