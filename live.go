package llmgate

import (
	"maps"
	"slices"
	"sync"
)

// live holds what the loaded configs use (cache stores, limiters), for the
// admin API and metrics, which look across configs. A value stays while
// some config holds it: a reload adds the new config's before it removes
// the old one's.
type live[K comparable, V any] struct {
	mu   sync.Mutex
	refs map[K]int
	vals map[K]V
}

func (l *live[K, V]) add(k K, v V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs == nil {
		l.refs, l.vals = map[K]int{}, map[K]V{}
	}
	l.refs[k]++
	l.vals[k] = v
}

func (l *live[K, V]) remove(k K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs[k]--; l.refs[k] <= 0 {
		delete(l.refs, k)
		delete(l.vals, k)
	}
}

// list returns the values held now.
func (l *live[K, V]) list() []V {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(maps.Values(l.vals))
}
