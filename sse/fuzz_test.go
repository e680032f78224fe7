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

// parseChunks1 feeds one chunk and returns the events it completes.
func parseChunks1(p *Parser, chunk []byte) []got {
	var out []got
	p.Feed(chunk)
	for ev, ok := p.Next(); ok; ev, ok = p.Next() {
		out = append(out, got{string(ev.Name), string(ev.Data), string(ev.Raw)})
	}
	return out
}
