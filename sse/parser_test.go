package sse

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// got is an event copied out of the parser, comparable with ==.
type got struct{ name, data, raw string }

func (g got) String() string { return fmt.Sprintf("{name %q data %q raw %q}", g.name, g.data, g.raw) }

// parseChunks feeds chunks one after another, ends the stream and returns
// every event.
func parseChunks(p *Parser, chunks ...[]byte) []got {
	var out []got
	drain := func() {
		for ev, ok := p.Next(); ok; ev, ok = p.Next() {
			out = append(out, got{string(ev.Name), string(ev.Data), string(ev.Raw)})
		}
	}
	for _, c := range chunks {
		p.Feed(c)
		drain()
	}
	p.End()
	drain()
	return out
}

// splits returns in whole, one byte at a time, and cut at every index.
func splits(in []byte) [][][]byte {
	out := [][][]byte{{in}}
	bytewise := make([][]byte, len(in))
	for i := range in {
		bytewise[i] = in[i : i+1]
	}
	out = append(out, bytewise)
	for i := 1; i < len(in); i++ {
		out = append(out, [][]byte{in[:i], in[i:]})
	}
	return out
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []got
	}{
		{name: "openai chat", in: "data: {\"a\":1}\n\ndata: [DONE]\n\n",
			want: []got{{"", `{"a":1}`, "data: {\"a\":1}\n\n"}, {"", "[DONE]", "data: [DONE]\n\n"}}},
		{name: "named events", in: "event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			want: []got{{"message_start", "{}", "event: message_start\ndata: {}\n\n"},
				{"message_stop", `{"type":"message_stop"}`, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"}}},
		{name: "CRLF", in: "event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n",
			want: []got{{"x", "1", "event: x\r\ndata: 1\r\n\r\n"}, {"", "2", "data: 2\r\n\r\n"}}},
		{name: "CR", in: "data: 1\r\rdata: 2\r\r",
			want: []got{{"", "1", "data: 1\r\r"}, {"", "2", "data: 2\r\r"}}},
		{name: "mixed terminators", in: "data: a\rdata: b\r\ndata: c\n\r\n",
			want: []got{{"", "a\nb\nc", "data: a\rdata: b\r\ndata: c\n\r\n"}}},
		{name: "CR blank line then LF", in: "data: 1\r\r\ndata: 2\n\n",
			want: []got{{"", "1", "data: 1\r\r\n"}, {"", "2", "data: 2\n\n"}}},
		{name: "multi-line data", in: "data: a\ndata:b\ndata:  c\ndata\n\n",
			want: []got{{"", "a\nb\n c\n", "data: a\ndata:b\ndata:  c\ndata\n\n"}}},
		{name: "empty data is dispatched", in: "data:\n\n",
			want: []got{{"", "", "data:\n\n"}}},
		{name: "no data is not dispatched", in: "event: ping\n\n: comment\n\nid: 7\nretry: 10\n\ndata: x\n\n",
			want: []got{{"", "x", "data: x\n\n"}}},
		{name: "comments, id, retry and unknown fields inside", in: ": hi\nid: 1\nevent: e\nretry: 5\nfoo: bar\ndata: d\n\n",
			want: []got{{"e", "d", ": hi\nid: 1\nevent: e\nretry: 5\nfoo: bar\ndata: d\n\n"}}},
		{name: "last event field wins", in: "event: a\nevent: b\ndata: d\n\n",
			want: []got{{"b", "d", "event: a\nevent: b\ndata: d\n\n"}}},
		{name: "field names are case-sensitive", in: "Data: x\nEVENT: y\ndata: z\n\n",
			want: []got{{"", "z", "Data: x\nEVENT: y\ndata: z\n\n"}}},
		{name: "colon in value", in: "data: a: b\n\n",
			want: []got{{"", "a: b", "data: a: b\n\n"}}},
		{name: "blank lines between events", in: "\n\r\n\rdata: 1\n\n\n\ndata: 2\n\n",
			want: []got{{"", "1", "data: 1\n\n"}, {"", "2", "data: 2\n\n"}}},
		{name: "byte order mark", in: "\xEF\xBB\xBFdata: 1\n\n",
			want: []got{{"", "1", "data: 1\n\n"}}},
		{name: "byte order mark only once", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: 1\n\ndata: 2\n\n",
			want: []got{{"", "2", "data: 2\n\n"}}},
		{name: "partial mark begins a line", in: "\xEF\xBBdata: 1\n\ndata: 2\n\n",
			want: []got{{"", "2", "data: 2\n\n"}}},
		{name: "incomplete last event", in: "data: 1\n\ndata: 2\n",
			want: []got{{"", "1", "data: 1\n\n"}}},
		{name: "CR blank line at the end", in: "data: 1\r\r",
			want: []got{{"", "1", "data: 1\r\r"}}},
		{name: "empty stream", in: ""},
		{name: "binary and NUL bytes", in: "data: \x00\xff\n\n",
			want: []got{{"", "\x00\xff", "data: \x00\xff\n\n"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunks := range splits([]byte(tc.in)) {
				var p Parser
				evs := parseChunks(&p, chunks...)
				if fmt.Sprint(evs) != fmt.Sprint(tc.want) {
					t.Fatalf("chunks %q:\ngot  %v\nwant %v", chunks, evs, tc.want)
				}
				if p.Err() != nil {
					t.Fatalf("Err() = %v", p.Err())
				}
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	in := []byte("data: 1\n\ndata: " + string(bytes.Repeat([]byte("x"), 100)) + "\n\ndata: 3\n\n")
	want := []got{{"", "1", "data: 1\n\n"}, {"", "3", "data: 3\n\n"}}
	for _, chunks := range splits(in) {
		p := Parser{MaxEvent: 50}
		evs := parseChunks(&p, chunks...)
		if fmt.Sprint(evs) != fmt.Sprint(want) {
			t.Fatalf("chunks %q:\ngot  %v\nwant %v", chunks, evs, want)
		}
		if !errors.Is(p.Err(), ErrEventTooLarge) {
			t.Fatalf("Err() = %v, want ErrEventTooLarge", p.Err())
		}
	}
}

func TestParseReset(t *testing.T) {
	var p Parser
	p.Feed([]byte("data: partial"))
	if _, ok := p.Next(); ok {
		t.Fatal("an incomplete event was dispatched")
	}
	p.Reset()
	if evs := parseChunks(&p, []byte("data: 1\n\n")); len(evs) != 1 || evs[0].raw != "data: 1\n\n" {
		t.Fatalf("after Reset: %v", evs)
	}
}

func TestEndingOf(t *testing.T) {
	for _, tc := range []struct {
		name, event, data string
		want              Ending
	}{
		{"openai done", "", "[DONE]", Clean},
		{"openai chunk", "", `{"choices":[{"delta":{"content":"the \"error\" word"}}]}`, Continues},
		{"openai error", "", `{"error":{"message":"overloaded"}}`, Failed},
		{"openai error not first", "", ` {"id":"x", "error": {"message":"m"}}`, Failed},
		{"openai error null still fails the SDK", "", `{"error":null}`, Failed},
		{"nested error is not an error", "response.created", `{"response":{"error":null}}`, Continues},
		{"anthropic stop", "message_stop", `{"type":"message_stop"}`, Clean},
		{"anthropic delta", "content_block_delta", `{"type":"content_block_delta"}`, Continues},
		{"anthropic error", "error", `{"type":"error","error":{"type":"overloaded_error"}}`, Failed},
		{"responses completed", "response.completed", `{"type":"response.completed","response":{"error":null}}`, Clean},
		{"responses failed", "response.failed", `{}`, Failed},
		{"responses incomplete", "response.incomplete", `{}`, Failed},
		{"responses delta", "response.output_text.delta", `{"delta":"hi"}`, Continues},
		{"not JSON", "", `error "error"`, Continues},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := &Event{Name: []byte(tc.event), Data: []byte(tc.data)}
			if got := EndingOf(ev); got != tc.want {
				t.Fatalf("EndingOf = %v, want %v", got, tc.want)
			}
		})
	}
}
