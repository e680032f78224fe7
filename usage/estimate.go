package usage

import (
	"math"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// bytesPerToken is the rule of thumb for English text and code in the BPE
// vocabularies of current models: about four bytes a token.
const bytesPerToken = 4

// tokensOf estimates the tokens of n bytes of text, rounding up.
func tokensOf(n int64) int64 {
	return n/bytesPerToken + min(n%bytesPerToken, 1)
}

// Prompt estimates the prompt tokens of a request: the bytes of text in
// its body's strings (all of a body that is not JSON) at about four bytes
// a token. A nil request (a body that could not be read) estimates 0.
func Prompt(req *llmreq.Fields) int64 {
	if req == nil {
		return 0
	}
	return tokensOf(req.TextBytes)
}

// Estimate is the tokens a request may spend, to reserve before it is
// sent: its prompt (see Prompt) plus the most output it allows, the
// largest of max_tokens, max_completion_tokens and max_output_tokens (none
// when it sets no cap). It saturates at math.MaxInt64.
func Estimate(req *llmreq.Fields) int64 {
	if req == nil {
		return 0
	}
	p := Prompt(req)
	if req.MaxOutputTokens > math.MaxInt64-p {
		return math.MaxInt64
	}
	return p + req.MaxOutputTokens
}
