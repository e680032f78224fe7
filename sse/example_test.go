package sse_test

import (
	"fmt"

	"github.com/llmgate/caddy-llmgate/sse"
)

func ExampleParser() {
	var p sse.Parser
	// Chunks as a network read may cut them: mid-line and mid-terminator.
	for _, chunk := range []string{"event: message_st", "art\ndata: {}\r", "\n\r\nevent: message_stop\ndata: {}\n\n"} {
		p.Feed([]byte(chunk))
		for ev, ok := p.Next(); ok; ev, ok = p.Next() {
			fmt.Printf("%s %s %v\n", ev.Name, ev.Data, sse.EndingOf(ev))
		}
	}
	// Output:
	// message_start {} continues
	// message_stop {} clean
}
