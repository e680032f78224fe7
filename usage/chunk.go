package usage

import (
	"bytes"

	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// IsUsageChunk reports whether data, the data of an event of an OpenAI
// chat completion stream, is the chunk stream_options.include_usage adds
// at the end: no choices, and the usage.
func IsUsageChunk(data []byte) bool {
	// Every other chunk has a choice with a delta: look closer only at
	// those without.
	if bytes.Contains(data, []byte(`"delta"`)) {
		return false
	}
	s := jsonscan.New(maxUsageObject, "choices", "usage")
	_, _ = s.Write(data)
	if !s.Valid() {
		return false
	}
	m := s.Members()
	choices, usage := m[0], m[1]
	return choices.Found && !choices.TooLong && emptyArray(choices.Value) &&
		usage.Found && !usage.TooLong && len(usage.Value) > 0 && usage.Value[0] == '{'
}

// emptyArray reports whether v, a JSON value, is an empty array.
func emptyArray(v []byte) bool {
	v = bytes.TrimSpace(v)
	return len(v) >= 2 && v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0
}
