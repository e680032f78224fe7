package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Entries replaced, purged and moved between the store's two kinds of
// value (whole and in parts) while hits read them: a hit gets one whole entry of its own key, never parts
// of two, and what it got does not change afterwards.
func TestMemoryStoreHitsStayWholeUnderChurn(t *testing.T) {
	m := newMemory(t)
	ctx := context.Background()
	var k1, k2 Key
	k1[31], k2[31] = 1, 2
	// Every third entry is written in parts.
	size := func(i int) int {
		if i%3 == 0 {
			return 20000 + i%7
		}
		return 50 + i%7
	}
	entry := func(k Key, i int) *Entry {
		tag := fmt.Sprintf("%d-%d", k[31], i)
		now := time.Now()
		return &Entry{Key: k, Model: "m" + tag, ContentType: "ct" + tag,
			Header: Header{1: {"h" + tag}}, // Openai-Model
			Body:   []byte(strings.Repeat(tag+";", size(i))), Stored: now, Expires: now.Add(time.Hour)}
	}
	check := func(k Key, e *Entry) {
		tag := strings.TrimPrefix(e.Model, "m")
		if e.Key != k || e.ContentType != "ct"+tag || fmt.Sprint(e.Header[1]) != "[h"+tag+"]" ||
			!strings.HasPrefix(string(e.Body), tag+";") || len(e.Body)%len(tag+";") != 0 {
			t.Errorf("mixed entry for key %d: %q %q %v %q", k[31], e.Model, e.ContentType, e.Header, e.Body[:20])
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// loop runs step with 0, 1, 2… until stop closes, then done.
	loop := func(step func(i int), done func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					done()
					return
				default:
				}
				step(i)
			}
		}()
	}
	for _, k := range []Key{k1, k2} {
		loop(func(i int) { _ = m.Set(ctx, k, entry(k, i)) }, func() {})
		var held []*Entry
		loop(func(int) {
			if e, _ := m.Get(ctx, k); e != nil {
				check(k, e)
				if len(held) < 1000 {
					held = append(held, e)
				}
			}
		}, func() {
			for _, e := range held {
				check(k, e)
			}
		})
	}
	loop(func(i int) { _ = m.PurgeModel(ctx, fmt.Sprintf("m%d-%d", 1+i%2, i)) }, func() {})
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
}
