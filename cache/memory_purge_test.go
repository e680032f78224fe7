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

// The models purged one by one are bounded: past maxPurgedModels, a purge
// of one more model purges everything, and the store then remembers no
// model purge. Nothing purged is served on either side of the bound.
func TestMemoryStoreBoundsModelPurges(t *testing.T) {
	m := newMemory(t)
	ctx := context.Background()
	kept := setAnswer(t, m, "kept", "other-model", "kept")
	for i := range maxPurgedModels {
		if err := m.PurgeModel(ctx, fmt.Sprint("model-", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A model purged again takes no new place.
	if err := m.PurgeModel(ctx, "model-0"); err != nil {
		t.Fatal(err)
	}
	if n := len(*m.purged.Load()); n != maxPurgedModels {
		t.Fatalf("%d model purges remembered, want %d", n, maxPurgedModels)
	}
	if e, _ := m.Get(ctx, kept); e == nil {
		t.Fatal("an entry of a model never purged was dropped before the bound")
	}
	last := setAnswer(t, m, "last", "model-last", "purged")
	if err := m.PurgeModel(ctx, "model-last"); err != nil {
		t.Fatal(err)
	}
	if p := m.purged.Load(); p != nil && len(*p) != 0 {
		t.Fatalf("past the bound, %d model purges are remembered, want none", len(*p))
	}
	if e, _ := m.Get(ctx, last); e != nil {
		t.Fatalf("the purged model's entry is served: %q", e.Body)
	}
	if e, _ := m.Get(ctx, kept); e != nil {
		t.Fatalf("past the bound, a model purge dropped less than everything: %q served", e.Body)
	}
	after := setAnswer(t, m, "after", "model-0", "after")
	if e, _ := m.Get(ctx, after); e == nil || string(e.Body) != "after" {
		t.Fatalf("an answer stored after the purges is not served: %+v", e)
	}
}
