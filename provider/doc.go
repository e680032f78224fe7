// Package provider is the outbound side of a gateway to LLM APIs: it owns
// the provider credentials, in a pool of keys whose health it learns from
// the provider's answers (429s and their resets, rate-limit headers,
// revoked keys), and retries a request on another key before the client
// has seen a byte of the answer.
//
// A Handler wraps the handler that sends the request upstream (a reverse
// proxy): every credential the caller sent is removed, exactly one key of
// the pool is set in the provider's header style, and a retryable answer
// (a 429, a 5xx) or a failed connection is kept from the client while the
// request is sent again, body and all, with the next healthy key. An
// answer that passes is never copied. The package has no dependency on
// Caddy.
package provider
