// Package stats holds the order statistics the benchmark tools report.
package stats

import (
	"cmp"
	"slices"
)

// Percentile is the nearest-rank percentile p (1 to 100) of xs, zero when xs
// is empty. Nearest rank picks a value that was measured, never one
// interpolated between two; for p 50 and an even count it is the lower of
// the middle two.
func Percentile[T cmp.Ordered](xs []T, p int) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}
