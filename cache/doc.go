// Package cache is llmgate's response cache for OpenAI-compatible and
// Anthropic APIs, as plain net/http middleware.
//
// An answer is keyed by a SHA-256 over the method, host, path and query, a
// scope partition (by default the caller's credential, so one tenant never
// reads another's answers; a request without one is not cached, and one
// with two different ones is refused) and the canonical JSON request body, so two requests
// that differ only in key order, whitespace or number spelling share an
// entry while any difference in model, prompt or parameters does not.
// Only complete 200 answers are stored; everything the cache does not
// handle is passed on byte for byte.
//
// Streamed answers (text/event-stream) pass to the client event by event,
// unbuffered and flushed as they come, while a copy is kept. The copy is
// stored when the terminal event ("data: [DONE]", "message_stop",
// "response.completed") arrives with no error event before it, just before
// that event is passed on, so the identical request a client sends once it
// has read the end finds the entry. A stream cut off before its terminal
// event (client gone, upstream failure) stores nothing. A hit replays the
// stored events byte for byte.
//
// With coalescing (the default) concurrent identical requests share one
// upstream call. The first one leads; the others follow and get the same
// answer, whatever its status: a stream live from its first event (late
// followers get everything so far, then the rest as it comes), any other
// answer once it is complete. The upstream call goes on while any of them
// listens, even when the leader's client is gone, and ends when none does.
// When the call fails before an answer begins, every follower returns the
// leader's error; when it breaks off mid-stream, every follower's response
// is aborted as the leader's was. A follower the call cannot serve whole
// (it ended with no answer, or the answer outgrew max_response before the
// follower got it) asks the upstream itself. Requests with Cache-Control:
// no-cache never follow.
//
// Entries live in a Store: a MemoryStore in the process, a shared store
// (cache/redisstore) for several instances, or a TieredStore, which keeps
// copies of a shared store's entries in a MemoryStore in front of it and
// drops them on the purges every instance publishes.
package cache
