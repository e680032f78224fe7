package fakeai

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"math"
)

// Embedding sizes: the default, and the most a request may ask for with
// "dimensions".
const (
	defaultDims = 8
	maxDims     = 4096
)

type embeddingList struct {
	Object string          `json:"object"`
	Data   []embedding     `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingsUsage `json:"usage"`
}

type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingsUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// embeddings answers /v1/embeddings with one vector per input. The values
// come from a hash of the input, except the last one, which is the call
// number n, so a fresh answer differs from a cached one.
func (c *call) embeddings() {
	dims := defaultDims
	if c.req.Dimensions > 0 {
		dims = min(c.req.Dimensions, maxDims)
	}
	inputs := c.req.embeddingInputs()
	out := embeddingList{Object: "list", Model: c.req.Model, Data: make([]embedding, len(inputs))}
	for i, in := range inputs {
		vec := vector(in, dims, c.n)
		var value any = vec
		if c.req.Encoding == "base64" {
			value = base64Floats(vec)
		}
		out.Data[i] = embedding{Object: "embedding", Index: i, Embedding: value}
	}
	u := c.usageFor(0)
	out.Usage = embeddingsUsage{PromptTokens: u.prompt, TotalTokens: u.prompt}
	c.writeJSON(200, out)
}

// vector is a deterministic vector for text, ending with n.
func vector(text string, dims, n int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text)) // hash writes cannot fail
	seed := h.Sum64()
	vec := make([]float32, dims)
	for i := range dims - 1 {
		seed = seed*6364136223846793005 + 1442695040888963407 // LCG step
		vec[i] = float32(int32(seed>>32)) / math.MaxInt32
	}
	vec[dims-1] = float32(n)
	return vec
}

// base64Floats encodes vec as the API's encoding_format "base64": little
// endian float32 values.
func base64Floats(vec []float32) string {
	b := make([]byte, 4*len(vec))
	for i, f := range vec {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}
