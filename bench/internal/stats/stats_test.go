package stats

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		xs   []time.Duration
		p    int
		want time.Duration
	}{
		{xs: nil, p: 50, want: 0},
		{xs: []time.Duration{3, 1, 2}, p: 50, want: 2},
		{xs: []time.Duration{4, 1, 3, 2}, p: 50, want: 2},
		{xs: []time.Duration{2, 1}, p: 50, want: 1},
		{xs: []time.Duration{5, 1, 4, 2, 3}, p: 99, want: 5},
		{xs: []time.Duration{7}, p: 1, want: 7},
	}
	for _, tt := range tests {
		if got := Percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %d) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}

func TestPercentileFloat(t *testing.T) {
	xs := []float64{9738.2, 8619.5, 8742.1}
	if got := Percentile(xs, 50); got != 8742.1 {
		t.Errorf("median %v = %v, want 8742.1", xs, got)
	}
	if xs[0] != 9738.2 {
		t.Errorf("Percentile sorted its argument: %v", xs)
	}
}
