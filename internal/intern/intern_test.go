package intern

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// empty starts a test with no string kept, and leaves none.
func empty(t *testing.T) {
	known.Store(nil)
	t.Cleanup(func() { known.Store(nil) })
}

func TestBytes(t *testing.T) {
	empty(t)
	name := []byte("gpt-4o-mini-intern-test")
	first := Bytes(name)
	if first != string(name) {
		t.Fatalf("got %q", first)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Bytes(name) }); n != 0 {
		t.Fatalf("a kept string cost %v allocations", n)
	}
	name[0] = 'X' // the kept copy is not b's memory
	if got := Bytes([]byte("gpt-4o-mini-intern-test")); got != first || got[0] != 'g' {
		t.Fatalf("got %q", got)
	}
}

// A string longer than maxLen is returned, not kept; nor are the strings
// after the table holds maxCount: what a caller can make it hold is bounded.
func TestBytesBounds(t *testing.T) {
	empty(t)
	long := []byte(strings.Repeat("m", maxLen+1))
	if Bytes(long) != string(long) || Bytes(long) != string(long) {
		t.Fatal("a long string changed")
	}
	if known.Load() != nil {
		t.Fatal("a string over maxLen was kept")
	}
	for i := range 2 * maxCount {
		name := fmt.Sprint("bound-", i)
		if got := Bytes([]byte(name)); got != name {
			t.Fatalf("got %q for %q", got, name)
		}
	}
	if n := len(*known.Load()); n != maxCount {
		t.Fatalf("the table holds %d strings, bound %d", n, maxCount)
	}
	// With the table full, a new name takes no lock.
	adding.Lock()
	defer adding.Unlock()
	done := make(chan string)
	go func() { done <- Bytes([]byte("after the table is full")) }()
	select {
	case got := <-done:
		if got != "after the table is full" {
			t.Fatalf("got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a new name waited for the lock of a full table")
	}
}

func TestBytesConcurrent(t *testing.T) {
	empty(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				name := fmt.Sprint("concurrent-", (g+i)%50)
				if got := Bytes([]byte(name)); got != name {
					t.Errorf("got %q for %q", got, name)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkBytes(b *testing.B) {
	name := []byte("gpt-4o-mini-2024-07-18")
	Bytes(name)
	b.ReportAllocs()
	for b.Loop() {
		_ = Bytes(name)
	}
}
