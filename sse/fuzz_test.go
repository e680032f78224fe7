package sse

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzParse checks that the events of a stream do not depend on where it
// is split, that each event's Raw bytes parse alone into the same event,
// and that nothing panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		"event: message_stop\r\ndata: {}\r\n\r\n",
		"data: 1\r\rdata: 2\r\r",
		"\xEF\xBB\xBFdata: x\n: c\nid: 1\n\n\n",
		"data\ndata:\ndata: a: b\n\r\n",
	} {
		f.Add([]byte(s), uint16(3), uint16(7))
	}
	f.Fuzz(func(t *testing.T, in []byte, a, b uint16) {
		whole := parseChunks(new(Parser), in)
		i, j := int(a)%(len(in)+1), int(b)%(len(in)+1)
		if i > j {
			i, j = j, i
		}
		if cut := parseChunks(new(Parser), in[:i], in[i:j], in[j:]); fmt.Sprint(cut) != fmt.Sprint(whole) {
			t.Fatalf("split at %d,%d:\n%v\nwhole:\n%v", i, j, cut, whole)
		}
		checkOffsets(t, in, in[:i], in[i:j], in[j:])
		bytewise := new(Parser)
		var evs []got
		for k := range in {
			evs = append(evs, parseChunks1(bytewise, in[k:k+1])...)
		}
		bytewise.End()
		evs = append(evs, parseChunks1(bytewise, nil)...)
		if fmt.Sprint(evs) != fmt.Sprint(whole) {
			t.Fatalf("byte by byte:\n%v\nwhole:\n%v", evs, whole)
		}
		for _, ev := range whole {
			raw := []byte(ev.raw)
			if bytes.HasPrefix(raw, []byte(bom)) {
				// A mark that starts a stream is dropped; this one, later
				// in the stream, begins the event's first line.
				raw = append([]byte(bom), raw...)
			}
			alone := parseChunks(new(Parser), raw)
			if len(alone) != 1 || alone[0] != ev {
				t.Fatalf("Raw %q parses alone into %v, want %v", ev.raw, alone, ev)
			}
		}
	})
}

// checkOffsets feeds chunks of in and checks Event.End and Settled: each
// event's Raw stands in the stream just before its End, and no event
// starts before a Settled offset reported before the event was complete
// (a writer passing on the bytes before Settled never passes on part of
// an event it may still hold back). At the stream's end all is settled.
func checkOffsets(t *testing.T, in []byte, chunks ...[]byte) {
	t.Helper()
	var p Parser
	var settled int64
	check := func() {
		for ev, ok := p.Next(); ok; ev, ok = p.Next() {
			start := ev.End - int64(len(ev.Raw))
			if ev.Raw != nil && !bytes.Equal(in[start:ev.End], ev.Raw) {
				t.Fatalf("event ending at %d: Raw %q, stream has %q", ev.End, ev.Raw, in[start:ev.End])
			}
			if ev.Raw != nil && start < settled {
				t.Fatalf("event %q starts at %d, before the settled %d", ev.Raw, start, settled)
			}
		}
		if s := p.Settled(); s < settled {
			t.Fatalf("settled went back from %d to %d", settled, s)
		} else {
			settled = s
		}
	}
	for _, c := range chunks {
		p.Feed(c)
		check()
	}
	p.End()
	check()
	if settled != int64(len(in)) && p.Err() == nil {
		// An incomplete last event is never dispatched: its bytes stay
		// unsettled.
		if rest := parseChunks(new(Parser), in[settled:]); len(rest) != 0 {
			t.Fatalf("at the end, settled %d of %d, and the rest holds events %v", settled, len(in), rest)
		}
	}
}

// parseChunks1 feeds one chunk and returns the events it completes.
func parseChunks1(p *Parser, chunk []byte) []got {
	var out []got
	p.Feed(chunk)
	for ev, ok := p.Next(); ok; ev, ok = p.Next() {
		out = append(out, got{string(ev.Name), string(ev.Data), string(ev.Raw)})
	}
	return out
}
