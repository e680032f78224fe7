// Package cache is llmgate's response cache for OpenAI-compatible and
// Anthropic APIs, as plain net/http middleware.
//
// An answer is keyed by a SHA-256 over the method, path and query, a scope
// partition (by default the caller's credential, so one tenant never reads
// another's answers) and the canonical JSON request body, so two requests
// that differ only in key order, whitespace or number spelling share an
// entry while any difference in model, prompt or parameters does not.
// Only complete 200 answers are stored; everything the cache does not
// handle is passed on byte for byte.
package cache
