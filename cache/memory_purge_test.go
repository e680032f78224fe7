package cache

import (
	"context"
	"fmt"
	"testing"
)

// What the store remembers of model purges does not outlive a purge of
// everything, which covers them all: without it, each distinct model
// ever purged stays in the map, which every later purge copies whole.
func TestMemoryStorePurgeForgetsModelPurges(t *testing.T) {
	m := newMemory(t)
	ctx := context.Background()
	for i := range 1000 {
		if err := m.PurgeModel(ctx, fmt.Sprint("model-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if p := m.purged.Load(); p != nil && len(*p) != 0 {
		t.Fatalf("after a purge of everything, %d model purges are remembered", len(*p))
	}
}
