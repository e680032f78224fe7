package usage

import (
	"sync"

	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// maxUsageObject bounds the usage object (and the model) an Answer keeps:
// a few hundred bytes in practice, a few KiB with every detail.
const maxUsageObject = 64 << 10

// Answer reads the usage of a JSON answer (not a stream) fed in pieces as
// it passes: it checks the answer and keeps its top-level "usage" object
// and its model alone, so an answer of any size, however it is split,
// costs the same small memory. Text inside strings is never taken for a usage member.
type Answer struct {
	s *jsonscan.Scanner
	// prompt is the prompt tokens to report when the answer does not say.
	prompt int64
}

// NewAnswer returns an Answer ready to be fed, to an answer of a request
// whose prompt is estimated at prompt tokens (see Prompt). It is a value,
// so that it can live inside what reads the answer rather than in an
// allocation of its own; use it through a pointer, never a copy.
func NewAnswer(prompt int64) Answer {
	return Answer{s: answerScanners.Get().(*jsonscan.Scanner), prompt: prompt}
}

// answerScanners are the Answers' scanners, ready to scan (Reset).
var answerScanners = sync.Pool{New: func() any { return jsonscan.New(maxUsageObject, "usage", "model") }}

// Release gives the Answer's buffers back, for another answer: call it
// once done with the Answer (Usage returns nothing of them), and use the
// Answer no more.
func (a *Answer) Release() {
	a.s.Reset()
	answerScanners.Put(a.s)
	a.s = nil
}

// Write feeds the next piece of the answer. It never fails.
func (a *Answer) Write(p []byte) (int, error) { return a.s.Write(p) }

// Usage returns what the answer fed spent. exact reports that it gave its
// usage, read as FromJSON reads the top-level usage object and model of a
// whole answer. Otherwise (no usage object, a count that is not a whole
// number >= 0, or an answer cut short before its usage: a client that
// leaves a long answer early) the output is estimated from the text of the
// answer fed, at about four bytes a token, as a stream's is, and the input
// is the prompt NewAnswer was given.
func (a *Answer) Usage() (u Usage, exact bool) {
	ms := a.s.Members()
	m, model := ms[0], ms[1]
	if a.s.Valid() && m.Found && !m.TooLong && m.Value[0] == '{' {
		// Joined on the stack when they fit (a usage object and a model
		// are a few hundred bytes): FromJSON keeps nothing of them.
		var buf [512]byte
		wrapped := append(append(buf[:0], `{"usage":`...), m.Value...)
		if model.Found && !model.TooLong {
			wrapped = append(append(wrapped, `,"model":`...), model.Value...)
		}
		if u, ok := FromJSON(append(wrapped, '}')); ok {
			return u, true
		}
	}
	out := tokensOf(a.s.TextBytes())
	return Usage{Input: a.prompt, Output: out, Total: a.prompt + out}, false
}
