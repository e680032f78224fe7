// Package llmreq reads and parses the JSON body of an LLM API request once,
// for every part of llmgate that needs it: the llm_model matcher (the
// "model" member), the rate limiter (an estimate of the tokens a request may
// spend) and the response cache (a key over the canonical form of the body).
//
// Read takes at most a given number of bytes from a request body and always
// leaves the request able to send its body on unchanged, whether the body
// fitted, was too large, or failed half way. Parse checks that the bytes are
// exactly one strict JSON value and computes its canonical form, in which two
// bodies that mean the same (member order, whitespace, escapes, number
// spelling) are byte for byte equal. Scan reads the same Fields (model,
// stream, token caps, amount of text) as Parse without the canonical form,
// in one pass and bounded memory, for bodies far larger than a cache keys
// on. A Memo lets several handlers of one request share one read, one scan
// and one parse; MemoOf finds it, in the request's state or its context.
//
// Credential gives the handlers one identity of the caller, the API key it
// sent, however spelt; APIError is the shape of the answers llmgate gives
// itself (a refusal) instead of the upstream's.
//
// The package does not depend on Caddy; it works with any net/http handler.
package llmreq
