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

// The tokens an image part is estimated at, whatever its size: about the
// most one image costs, by the providers' published rules, so that an
// estimate is seldom short of what the answer then reports. The bytes of
// an image's encoding say nothing of it: a megabyte of base64 would read
// as some 250,000 tokens.
const (
	// openAIImageTokens is what OpenAI's tiled models (GPT-4o, GPT-4.1,
	// o-series) charge at most for one image at high detail: 85 tokens,
	// plus 170 a tile of 512 pixels of the image scaled to fit 2048×2048
	// and then to 768 pixels on its short side, at most 2×4 tiles
	// (a 1024×1024 image is 765; at low detail any image is 85).
	openAIImageTokens = 85 + 8*170
	// anthropicImageTokens is about what Anthropic charges at most for one
	// image: width×height/750 tokens, of an image it scales down to about
	// 1.15 megapixels (1,092×1,092 is some 1,590).
	anthropicImageTokens = 1600
)

// Prompt estimates the prompt tokens of a request: the bytes of text in
// its body's strings (all of a body that is not JSON) at about four bytes
// a token, and a fixed number of tokens an image part (see llmreq.Images:
// the bytes of the images' data are not text). A nil request (a body that
// could not be read) estimates 0.
func Prompt(req *llmreq.Fields) int64 {
	if req == nil {
		return 0
	}
	return tokensOf(req.TextBytes) +
		req.Images.OpenAI*openAIImageTokens + req.Images.Anthropic*anthropicImageTokens
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
