package usage

import (
	"strings"

	"github.com/llmgate/caddy-llmgate/sse"
)

// Stream reads the usage of one streamed (server-sent events) answer, fed
// one event at a time. It keeps counts only, never the events. The zero
// Stream is ready to use; set Prompt for a better estimate of a stream
// that does not report its usage.
type Stream struct {
	// Prompt is the prompt tokens to report when the stream does not say:
	// Prompt of its request.
	Prompt int64
	// final is the usage the answer gave as its own: OpenAI's last chunk,
	// the Responses API's response.completed, Anthropic's message_delta.
	final fields
	// start is the usage of Anthropic's message_start: the input, and the
	// output only as it stood when the message began.
	start fields
	// text is the bytes of generated text streamed.
	text int64
	// model is the model the events name.
	model string
}

// Event feeds one event: its name (the "event" field; "" when it has none)
// and its data. Data that is not a JSON object, such as OpenAI's closing
// [DONE], and malformed data are passed over.
func (s *Stream) Event(name string, data []byte) {
	var text int64
	var counter *int64
	if carriesText(name) {
		counter = &text
	}
	f, model, ok := scanAnswer(data, counter)
	if !ok {
		return
	}
	// Every chunk of an OpenAI stream names the model: decode it once.
	if model != nil && string(model) != s.model {
		s.model = modelName(model)
	}
	s.text += text
	if f.nested {
		s.start.merge(&f)
	} else {
		s.final.merge(&f)
	}
}

// carriesText reports whether events of this name stream generated text:
// OpenAI's unnamed chunks and the deltas of the Responses API and
// Anthropic. Deltas of audio carry base64, not text.
func carriesText(name string) bool {
	return name == "" || name == "message" ||
		strings.HasSuffix(name, "delta") && !strings.Contains(name, "audio")
}

// isTextMember reports whether a string member of this name in an event
// that carries text holds generated text: message content and refusals,
// reasoning, tool call arguments, and the deltas of the Responses API and
// Anthropic.
func isTextMember(name []byte) bool {
	switch string(name) {
	case "content", "text", "delta", "refusal", "arguments", "partial_json",
		"thinking", "reasoning", "reasoning_content":
		return true
	}
	return false
}

// Usage returns what the stream has spent so far. exact reports that the
// answer gave both its input and its output counts. Otherwise what it did
// not give is estimated: the output from the text streamed, at about four
// bytes a token (no less than a count Anthropic's message_start gave), and
// the input as Prompt, none of it cached. The cache counts are the last
// each event gave (message_delta repeats running totals), never a sum.
func (s *Stream) Usage() (u Usage, exact bool) {
	f := s.start
	f.found &^= 1 << fieldOutput
	f.merge(&s.final)
	_, inKnown := f.input()
	if !inKnown {
		f.unset(fieldCached)
		f.n[fieldInput] = s.Prompt
	}
	outKnown := f.has(fieldOutput)
	if !outKnown {
		f.n[fieldOutput] = max(s.start.n[fieldOutput], tokensOf(s.text))
	}
	u = f.usage()
	u.Model = s.model
	return u, inKnown && outKnown
}

// FromStream reads the usage of a whole streamed answer, such as a stored
// one, as Stream reads it event by event. ok reports that the stream gave
// its usage; otherwise the output is estimated from its text, and the
// input is 0.
func FromStream(body []byte) (u Usage, ok bool) {
	var (
		p sse.Parser
		s Stream
	)
	p.MaxEvent = len(body) + 1
	p.Feed(body)
	p.End()
	for ev, more := p.Next(); more; ev, more = p.Next() {
		s.Event(string(ev.Name), ev.Data)
	}
	return s.Usage()
}
