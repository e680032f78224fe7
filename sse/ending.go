package sse

import (
	"bytes"
	"encoding/json"
)

// Ending is what an event means for the LLM stream it belongs to.
type Ending uint8

const (
	// Continues: the stream goes on.
	Continues Ending = iota
	// Clean: the stream is complete (OpenAI "data: [DONE]", Anthropic
	// "message_stop", Responses API "response.completed").
	Clean
	// Failed: the provider reports an error or an unfinished answer; the
	// stream must not be taken for a complete answer.
	Failed
)

// String returns the name of the ending.
func (e Ending) String() string {
	switch e {
	case Clean:
		return "clean"
	case Failed:
		return "failed"
	}
	return "continues"
}

// EndingOf tells whether ev ends an LLM stream, cleanly or with a failure.
//
// Failures are the events named "error" (Anthropic, Responses API),
// "response.failed" and "response.incomplete" (Responses API), and any event
// whose data is a JSON object with a top-level "error" member, which is how
// OpenAI reports an error inside a chat completion stream and what its
// SDKs check.
func EndingOf(ev *Event) Ending {
	switch string(ev.Name) {
	case "message_stop", "response.completed":
		return Clean
	case "error", "response.failed", "response.incomplete":
		return Failed
	}
	// The OpenAI SDKs end a stream at data beginning with [DONE].
	if bytes.HasPrefix(ev.Data, done) {
		return Clean
	}
	if hasErrorMember(ev.Data) {
		return Failed
	}
	return Continues
}

var (
	done        = []byte("[DONE]")
	errorMember = []byte(`"error"`)
)

// hasErrorMember reports whether data is a JSON object with a top-level
// "error" member. Inside JSON strings quotes are escaped, so data without
// the bytes "error" in quotes has no such member and needs no decoding:
// ordinary events cost one substring search.
func hasErrorMember(data []byte) bool {
	if !bytes.Contains(data, errorMember) {
		return false
	}
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	return json.Unmarshal(data, &v) == nil && v.Error != nil
}
