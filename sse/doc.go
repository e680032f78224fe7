// Package sse reads server-sent event streams (text/event-stream, as
// specified by the WHATWG HTML standard) incrementally, as the bytes of an
// LLM API answer pass through a proxy, and tells when such a stream has
// ended.
//
// A Parser is fed byte chunks split anywhere, even inside a line terminator,
// and yields the events they complete, each with its name, its data and its
// bytes exactly as received. It copies only the part of an event that spans
// chunks and reuses its buffers, so a long stream costs no allocation per
// event. EndingOf classifies an event as the clean end of an OpenAI, Anthropic
// or Responses API stream, as an error that ends it, or as neither.
//
// The package does not depend on Caddy.
package sse
