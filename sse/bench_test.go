package sse

import (
	"fmt"
	"strings"
	"testing"
)

// chatStream returns an OpenAI chat stream of n content chunks and [DONE].
func chatStream(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n", i)
	}
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

// BenchmarkParse feeds a 200-event stream in chunks of several sizes (a
// chunk size that splits events exercises the carried buffer) and reports
// allocations per event.
func BenchmarkParse(b *testing.B) {
	stream := chatStream(200)
	for _, size := range []int{64, 1024, 32 << 10} {
		b.Run(fmt.Sprintf("chunk=%d", size), func(b *testing.B) {
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			var p Parser
			events := 0
			for b.Loop() {
				p.Reset()
				for off := 0; off < len(stream); off += size {
					p.Feed(stream[off:min(off+size, len(stream))])
					for ev, ok := p.Next(); ok; ev, ok = p.Next() {
						if EndingOf(ev) == Failed {
							b.Fatal("failed")
						}
						events++
					}
				}
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
