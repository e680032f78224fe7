package limiter

import (
	"context"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

func TestInFlightCapAndRelease(t *testing.T) {
	f := NewInFlight()
	ctx, key, other := context.Background(), hashKey("z", "a"), hashKey("z", "b")
	for i := 1; i <= 2; i++ {
		if ok, held := f.acquire(ctx, key, 2, 0, nil); !ok || held != i {
			t.Fatalf("acquire %d: ok=%v held=%d", i, ok, held)
		}
	}
	if ok, _ := f.acquire(ctx, key, 2, 0, nil); ok {
		t.Fatal("third slot granted over a cap of 2")
	}
	if ok, _ := f.acquire(ctx, other, 2, 0, nil); !ok {
		t.Fatal("another key was refused")
	}
	f.release(key)
	if ok, _ := f.acquire(ctx, key, 2, 0, nil); !ok {
		t.Fatal("a freed slot was not granted")
	}
	f.release(key)
	f.release(key)
	f.release(other)
	if got := f.Held(key) + f.Held(other); got != 0 {
		t.Fatalf("%d slots held after every release", got)
	}
	if n := len(f.shard(key).lines) + len(f.shard(other).lines); n != 0 {
		t.Fatalf("%d idle lines kept", n)
	}
}

func TestInFlightWaiters(t *testing.T) {
	tests := []struct {
		name string
		// end ends the wait of the second request: it frees the slot, or
		// cancels the request, or lets MaxWait pass.
		end     func(f *InFlight, key Key, cancel context.CancelFunc)
		maxWait time.Duration
		granted bool
	}{
		{"slot freed", func(f *InFlight, key Key, _ context.CancelFunc) { f.release(key) }, time.Minute, true},
		{"client leaves", func(_ *InFlight, _ Key, cancel context.CancelFunc) { cancel() }, time.Minute, false},
		{"max wait passes", func(*InFlight, Key, context.CancelFunc) {}, 20 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, key := NewInFlight(), hashKey("z", "k")
			if ok, _ := f.acquire(context.Background(), key, 1, 0, nil); !ok {
				t.Fatal("first acquire refused")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			result, inLine := make(chan bool), make(chan struct{})
			go func() {
				// beforeWait tells when the request is in line: a short
				// MaxWait can run out, and the request leave the line,
				// before a poll of the line would see it there.
				ok, _ := f.acquire(ctx, key, 1, tt.maxWait, func() { close(inLine) })
				result <- ok
			}()
			<-inLine
			tt.end(f, key, cancel)
			if got := <-result; got != tt.granted {
				t.Fatalf("granted = %v, want %v", got, tt.granted)
			}
			if got := f.Held(key); got != 1 {
				t.Fatalf("%d slots held, want 1", got)
			}
		})
	}
}

func TestInFlightServesWaitersInOrder(t *testing.T) {
	f, key := NewInFlight(), hashKey("z", "k")
	ctx := context.Background()
	f.acquire(ctx, key, 1, 0, nil)
	order := make(chan int, 3)
	for i := range 3 {
		go func() {
			if ok, _ := f.acquire(ctx, key, 1, time.Minute, nil); ok {
				order <- i
			}
		}()
		// Each waiter joins the line before the next starts.
		harness.Eventually(t, "the waiter to queue", func() bool {
			sh := f.shard(key)
			sh.mu.Lock()
			defer sh.mu.Unlock()
			return len(sh.lines[key].waiters) == i+1
		})
	}
	for want := range 3 {
		f.release(key)
		if got := <-order; got != want {
			t.Fatalf("waiter %d served at turn %d", got, want)
		}
	}
}
