package pricing

import (
	"cmp"
	"slices"
	"strings"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// Table holds prices by model: names and globs as the llm_model matcher
// reads them (llmreq.MatchModel: '*' and '?', ASCII case ignored). The most
// specific entry that matches a model prices it: a plain name before any
// glob, then the glob with the most bytes that are not wildcards, then the
// first by name. A Table is safe for concurrent use and never changes.
type Table struct {
	// exact holds the entries without wildcards, by lower-cased name.
	exact map[string]Price
	// globs are the other entries, most specific first.
	globs []entry
}

type entry struct {
	glob  string
	price Price
}

// NewTable builds a Table of prices by name or glob, each completed
// (Price.Complete).
func NewTable(prices map[string]Price) *Table {
	t := &Table{exact: make(map[string]Price)}
	for name, p := range prices {
		p = p.Complete()
		if strings.ContainsAny(name, "*?") {
			t.globs = append(t.globs, entry{name, p})
			continue
		}
		t.exact[strings.ToLower(name)] = p
	}
	slices.SortFunc(t.globs, func(a, b entry) int {
		return cmp.Or(cmp.Compare(literal(b.glob), literal(a.glob)), strings.Compare(a.glob, b.glob))
	})
	return t
}

// literal counts the bytes of glob that match only themselves.
func literal(glob string) int {
	return len(glob) - strings.Count(glob, "*") - strings.Count(glob, "?")
}

// Lookup returns the price of model; ok is false when no entry matches
// it. It allocates nothing for names of usual length.
func (t *Table) Lookup(model string) (p Price, ok bool) {
	if t == nil {
		return Price{}, false
	}
	if len(t.exact) > 0 {
		var buf [128]byte
		if key, fits := lowerInto(buf[:0], model); fits {
			p, ok = t.exact[string(key)]
		} else {
			p, ok = t.exact[strings.ToLower(model)]
		}
		if ok {
			return p, true
		}
	}
	for i := range t.globs {
		if llmreq.MatchModel(t.globs[i].glob, model) {
			return t.globs[i].price, true
		}
	}
	return Price{}, false
}

// lowerInto appends s lower-cased (ASCII) to b, within b's capacity;
// fits is false when s is longer.
func lowerInto(b []byte, s string) (_ []byte, fits bool) {
	if len(s) > cap(b) {
		return b, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b, true
}

// Globs lists the table's entries, plain names and globs, sorted: what a
// warning about an unpriced model can name.
func (t *Table) Globs() []string {
	out := make([]string, 0, len(t.exact)+len(t.globs))
	for name := range t.exact {
		out = append(out, name)
	}
	for _, e := range t.globs {
		out = append(out, e.glob)
	}
	slices.Sort(out)
	return out
}

// PricesAll reports whether every model has a price: an entry "*".
func (t *Table) PricesAll() bool {
	return t != nil && slices.ContainsFunc(t.globs, func(e entry) bool { return strings.Trim(e.glob, "*") == "" })
}
