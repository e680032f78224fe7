package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/limiter"
)

// TestSlotsLeases: two stores on one Redis (two servers) share a key's
// slots; a released slot is free at once; the slots of a store that stops
// renewing lapse after their TTL, and those of one that renews do not.
func TestSlotsLeases(t *testing.T) {
	c := testredis.Client(t, testredis.Start(t))
	const ttl = 1500 * time.Millisecond
	a, b := NewSlots(c.Redis, Options{}, ttl), NewSlots(c.Redis, Options{}, ttl)
	defer b.Close()
	ctx := context.Background()
	key := limiter.Key{1, 2, 3}
	la, _, err := a.Acquire(ctx, key, 2)
	if err != nil || la == "" {
		t.Fatalf("first slot: %q, %v", la, err)
	}
	lb, held, _ := b.Acquire(ctx, key, 2)
	if lb == "" || held != 2 {
		t.Fatalf("second slot, other server: %q, held %d", lb, held)
	}
	if l, held, _ := b.Acquire(ctx, key, 2); l != "" || held != 2 {
		t.Fatalf("third slot of two: %q, held %d; want refused", l, held)
	}
	if err := b.Release(ctx, key, lb); err != nil {
		t.Fatal(err)
	}
	lb, _, _ = b.Acquire(ctx, key, 2)
	if lb == "" {
		t.Fatal("a released slot is not free")
	}
	// a dies: its lease lapses; b's, renewed, stays.
	a.Close()
	harness.Eventually(t, "the dead store's slot lapses", func() bool {
		l, _, _ := b.Acquire(ctx, key, 2)
		return l != ""
	})
	time.Sleep(2 * ttl) // b's two leases outlive their TTL only by renewal
	if l, held, _ := b.Acquire(ctx, key, 2); l != "" || held != 2 {
		t.Errorf("after two TTLs, renewed leases: acquire %q, held %d; want both still held", l, held)
	}
}
