package pricing

import (
	"fmt"
	"testing"

	"github.com/llmgate/caddy-llmgate/usage"
)

// BenchmarkLookup prices a request's model in a table the size of
// LiteLLM's file, with globs: the work a cost zone adds at admission.
func BenchmarkLookup(b *testing.B) {
	prices := map[string]Price{"*": {Input: 1}, "claude-*": {Input: 2}, "gpt-4o*": {Input: 3}}
	for i := range 2000 {
		prices[fmt.Sprintf("provider/model-%d", i)] = Price{Input: 4}
	}
	tab := NewTable(prices)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tab.Lookup("gpt-4o-mini-2024-07-18"); !ok {
			b.Fatal("no price")
		}
	}
}

// BenchmarkCost prices an answer's usage.
func BenchmarkCost(b *testing.B) {
	p := Price{Input: 150_000, Output: 600_000, CachedInput: 75_000}.Complete()
	u := usage.Usage{Input: 1200, CachedInput: 400, Output: 300}
	b.ReportAllocs()
	for b.Loop() {
		if p.Cost(u) == 0 {
			b.Fatal("free")
		}
	}
}
