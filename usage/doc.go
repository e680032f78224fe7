// Package usage reads the tokens an LLM answer spent from the answer
// itself, for token rate limits and metrics, and estimates them where the
// answer does not say.
//
// FromJSON reads a whole JSON answer, and an Answer one of any size fed
// in pieces as it passes, keeping only its usage object: OpenAI chat
// completions, completions and embeddings (prompt_tokens,
// completion_tokens, total_tokens), the Responses API and Anthropic
// messages (input_tokens, output_tokens), and the parts of the input
// priced apart: OpenAI's cached tokens (prompt_tokens_details or
// input_tokens_details), Anthropic's cache writes and reads. A
// Stream is fed a streamed answer one server-sent event at a time and reads
// OpenAI's final usage chunk, the Responses API's response.completed event
// and Anthropic's message_start and message_delta; a stream that never
// reports its usage is estimated from its streamed text. Estimate gives the
// tokens a request may spend before it is sent, from its parsed body,
// counting an image part a fixed number of tokens, not its bytes.
//
// Answers are scanned in place, without reflection and without copying:
// only the top-level usage object of an answer (or of its "response" or
// "message" member) counts, however often the word appears elsewhere.
// Malformed input never panics; it reports that no usage was found.
//
// The package does not depend on Caddy.
package usage
