package limiter

import (
	"context"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// numberedKey is the i-th of many distinct keys.
func numberedKey(i int) Key {
	var k Key
	binary.LittleEndian.PutUint64(k[:], uint64(i)*0x9e3779b97f4a7c15)
	binary.LittleEndian.PutUint64(k[8:], uint64(i))
	return k
}

func TestMemoryStoreSweepDropsDrainedKeys(t *testing.T) {
	s, clock := newFrozenStore(t)
	ctx := context.Background()
	const n = 5000
	for i := range n {
		// Half the keys drain in a second, half in an hour.
		cost := time.Second
		if i%2 == 1 {
			cost = time.Hour
		}
		if _, err := s.Take(ctx, numberedKey(i), cost, time.Hour, 0); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute)
	s.sweep()
	if got := s.Len(); got != n/2 {
		t.Fatalf("after the first sweep %d keys, want %d", got, n/2)
	}
	clock.Advance(time.Hour)
	s.sweep()
	if got := s.Len(); got != 0 {
		t.Fatalf("after the second sweep %d keys, want 0", got)
	}
}

// TestMemoryStoreSweepHoldsKeysForTheCredit: a key drained less than
// MaxSlack ago still gives a late charge its lateness credit from its
// TAT, so the sweep keeps it; one drained MaxSlack ago is dropped.
func TestMemoryStoreSweepHoldsKeysForTheCredit(t *testing.T) {
	s, clock := newFrozenStore(t)
	ctx := context.Background()
	if _, err := s.Take(ctx, numberedKey(1), time.Second, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second + MaxSlack - 1)
	s.sweep()
	if got := s.Len(); got != 1 {
		t.Fatalf("a key drained %s ago swept: %d keys left", MaxSlack-1, got)
	}
	clock.Advance(1)
	s.sweep()
	if got := s.Len(); got != 0 {
		t.Fatalf("a key drained %s ago kept: %d keys left", MaxSlack, got)
	}
}

func TestMemoryStoreSweepReturnsMemory(t *testing.T) {
	s, clock := newFrozenStore(t)
	ctx := context.Background()
	const n = 300_000
	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	for i := range n {
		_, _ = s.Take(ctx, numberedKey(i), time.Second, time.Hour, 0)
	}
	full := heap()
	clock.Advance(time.Minute)
	s.sweep()
	after := heap()
	if grown, left := full-before, after-before; left > grown/4 {
		t.Fatalf("sweep kept %d of %d bytes", left, grown)
	}
}

func TestMemoryStoreMaxKeys(t *testing.T) {
	clock := new(harness.Clock)
	const maxKeys = 4 * memShards
	s := NewMemoryStore(MemoryOptions{MaxKeys: maxKeys, Now: clock.Now})
	defer s.Close()
	ctx := context.Background()
	for i := range 20 * maxKeys {
		if d, _ := s.Take(ctx, numberedKey(i), time.Minute, time.Hour, 0); !d.Allowed {
			t.Fatalf("key %d refused", i)
		}
	}
	if got := s.Len(); got > maxKeys {
		t.Fatalf("%d keys held, bound %d", got, maxKeys)
	}
}

func TestMemoryStoreEvictsTheLeastBacklog(t *testing.T) {
	clock := new(harness.Clock)
	s := NewMemoryStore(MemoryOptions{MaxKeys: memShards, Now: clock.Now}) // one key a shard
	defer s.Close()
	ctx := context.Background()
	// Two keys of the same shard: the second evicts the first.
	a, b := Key{7, 1}, Key{7, 2}
	_, _ = s.Take(ctx, a, time.Minute, time.Hour, 0)
	_, _ = s.Take(ctx, b, time.Minute, time.Hour, 0)
	if got := s.Len(); got != 1 {
		t.Fatalf("%d keys held, want 1", got)
	}
	if d, _ := s.Take(ctx, b, 0, time.Hour, 0); d.Backlog != time.Minute {
		t.Fatalf("the newest key lost its state: backlog %s", d.Backlog)
	}
}

func TestMemoryStoreCloseStopsTheSweep(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewMemoryStore(MemoryOptions{SweepInterval: time.Millisecond})
	time.Sleep(5 * time.Millisecond) // let the sweep run a few times
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	harness.Eventually(t, "the sweep goroutine to end", func() bool { return runtime.NumGoroutine() <= before })
	// A closed store still decides.
	if d, _ := s.Take(context.Background(), Key{}, time.Second, time.Second, 0); !d.Allowed {
		t.Fatal("closed store refused")
	}
}

func TestMemoryStoreBytesPerKey(t *testing.T) {
	const n = 200_000
	perKey := fillKeys(t, n)
	t.Logf("%.1f B/key", perKey)
	if perKey > 100 {
		t.Fatalf("%.1f bytes a key, want under 100", perKey)
	}
}

// fillKeys charges n distinct keys to a fresh store and returns the heap
// it took per key.
func fillKeys(t testing.TB, n int) float64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	before := m.HeapAlloc
	s := NewMemoryStore(MemoryOptions{MaxKeys: 2 * n}) // room for uneven shards
	defer s.Close()
	ctx := context.Background()
	for i := range n {
		if _, err := s.Take(ctx, numberedKey(i), time.Hour, time.Hour, 0); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m)
	if got := s.Len(); got != n {
		t.Fatalf("%d keys held, want %d", got, n)
	}
	runtime.KeepAlive(s)
	return float64(m.HeapAlloc-before) / float64(n)
}
