package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// isBatch reports whether s is a limiter.BatchStore.
func isBatch(s Store) bool {
	_, ok := s.BucketStore.(limiter.BatchStore)
	return ok
}

// testBatch: TakeMany decides each take as Take would, charging only those
// it admits, and AdjustMany moves each key as Adjust would.
func testBatch(t *testing.T, s Store) {
	b := s.BucketStore.(limiter.BatchStore)
	ctx := context.Background()
	full, free, deep := Key("full"), Key("free"), Key("deep")
	if _, err := s.Take(ctx, full, time.Hour, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	takes := []limiter.BatchTake{
		{Key: full, Cost: time.Second, Limit: time.Hour},
		{Key: free, Cost: time.Second, Limit: time.Hour},
		{Key: deep, Cost: 2 * time.Hour, Limit: time.Hour},
	}
	if err := b.TakeMany(ctx, takes); err != nil {
		t.Fatal(err)
	}
	want := []limiter.Decision{
		{Allowed: false, Wait: time.Hour, Backlog: time.Hour + time.Second},
		{Allowed: true, Wait: 0, Backlog: time.Second},
		{Allowed: false, Wait: 0, Backlog: 2 * time.Hour},
	}
	for i, tk := range takes {
		if tk.Decision != want[i] {
			t.Errorf("take %d: %+v, want %+v", i, tk.Decision, want[i])
		}
	}
	for key, want := range map[limiter.Key]time.Duration{full: time.Hour, free: time.Second, deep: 0} {
		if got := Backlog(t, s, key); got != want {
			t.Errorf("after the takes, a backlog of %s, want %s", got, want)
		}
	}
	err := b.AdjustMany(ctx, []limiter.BatchAdjust{{Key: full, Delta: -30 * time.Minute}, {Key: free, Delta: -time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if got := Backlog(t, s, full); got != 30*time.Minute {
		t.Errorf("after giving back half an hour of an hour, a backlog of %s", got)
	}
	if n := s.Keys(); n != 1 {
		t.Errorf("%d keys held after the adjustments, want 1", n)
	}
}
