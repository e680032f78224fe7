package usage

import "github.com/llmgate/caddy-llmgate/jsonscan"

// maxUsageObject bounds the usage object (and the model) an Answer keeps:
// a few hundred bytes in practice, a few KiB with every detail.
const maxUsageObject = 64 << 10

// Answer reads the usage of a JSON answer (not a stream) fed in pieces as
// it passes: it checks the answer and keeps its top-level "usage" object
// and its model alone, so an answer of any size, however it is split,
// costs the same small memory. Text inside strings is never taken for a usage member.
type Answer struct {
	s *jsonscan.Scanner
}

// NewAnswer returns an Answer ready to be fed.
func NewAnswer() *Answer {
	return &Answer{s: jsonscan.New(maxUsageObject, "usage", "model")}
}

// Write feeds the next piece of the answer. It never fails.
func (a *Answer) Write(p []byte) (int, error) { return a.s.Write(p) }

// Usage returns the usage and model of the answer fed, read as FromJSON
// reads the top-level usage object and model of a whole answer. ok is false when the answer is
// not one JSON object (or ended early), has no usage object, or has a
// count that is not a whole number >= 0.
func (a *Answer) Usage() (u Usage, ok bool) {
	ms := a.s.Members()
	m, model := ms[0], ms[1]
	if !a.s.Valid() || !m.Found || m.TooLong || m.Value[0] != '{' {
		return Usage{}, false
	}
	wrapped := make([]byte, 0, len(m.Value)+len(model.Value)+len(`{"usage":,"model":}`))
	wrapped = append(append(wrapped, `{"usage":`...), m.Value...)
	if model.Found && !model.TooLong {
		wrapped = append(append(wrapped, `,"model":`...), model.Value...)
	}
	return FromJSON(append(wrapped, '}'))
}
