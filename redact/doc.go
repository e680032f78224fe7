// Package redact removes API keys and other credentials from log text before
// it is written anywhere.
//
// A [Scrubber] knows the shapes of the keys that travel through an LLM
// gateway — OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-), Anthropic
// (sk-ant-api03-, sk-ant-admin01-, sk-ant-oat01-, sk-ant-ort01-), gateway
// keys (any sk- followed by 20 or more key characters), Google (AIza…),
// Groq (gsk_…), "Bearer <token>" — and the names whose values are
// credentials: the headers Authorization, Proxy-Authorization, X-Api-Key,
// Api-Key, X-Goog-Api-Key (any name ending in api-key, api_key or apikey),
// Ocp-Apim-Subscription-Key (…subscription-key), X-Auth-Token and the like
// (auth, access, refresh, id, api, private or session, then -token or
// _token), and the parameters key=, token= and any …_key= or …_token= —
// plus any extra RE2 patterns the operator adds. Keys and names written
// with percent-encoding or JSON \u escapes of key characters ("sk%2Dproj",
// "sk\u002dproj", each once or more) are found too.
//
// A secret is replaced by "[REDACTED:xxxx]", where xxxx is the first four hex
// digits of the SHA-256 of the secret, so operators can tell keys apart (and
// check a suspect key with `printf %s "$KEY" | sha256sum | cut -c1-4`) without
// the log holding anything usable. A known, non-secret prefix stays visible:
// "sk-proj-[REDACTED:a1b2]", "AIza[REDACTED:77c1]", "Bearer [REDACTED:09fe]".
// Header names and parameter names stay visible; only values are replaced.
//
// Where a rule has to tell a secret from ordinary words, it errs towards
// redacting, within these limits:
//
//   - sk- and AIza keys glued to other key characters ("task-list",
//     "risk-free", "…-sk-…" inside a base64url blob) are left alone, unless
//     the key is unmistakable (sk-proj-, sk-ant-…, or OpenAI's "T3BlbkFJ");
//     an sk- needs 20 key characters after it, an AIza 35.
//   - "Bearer" followed by a word is prose ("the bearer of bad news",
//     "Bearer Authentication"); the token must be 8 bytes or more and hold a
//     digit, punctuation other than '-', or a capital letter after its
//     first byte — which random tokens, JWTs and keys always do.
//   - A credential name's quoted value ("X-Api-Key":["…"], api_key="…") is
//     replaced whatever it holds; an unquoted one ("x-api-key: missing")
//     only when it looks like a token in the same way.
//   - The bare names "key" and "token" count only in "key=" and "token="
//     (query strings, forms): a JSON field "key" is often a cache or record
//     key, and "token" a word of a tokenizer, not a credential.
//   - A value that runs over a name and its separator ("key= X-Auth-Token:
//     v", "Bearer access_token=v") ends at the name, and the name's value
//     is looked at as well.
//
// Scrubbing works on text, not on a parsed document, and keeps the text valid
// for its container: a replaced value ends at a quote or at a backslash, so an
// escaped JSON string inside a JSON log line ("{\"error\":…}") stays intact,
// and the replacement contains neither quotes nor backslashes. Every rule runs
// in time linear in the input.
//
// Lines without a secret are the common case and cost no allocation: the
// built-in rules are anchored on the letters k, z and b, so an ordinary line
// is looked at closely in only a few places, and an extra pattern runs only on
// lines that contain its required literal text, when it has one.
//
// [NewEncoder] wraps any zapcore.Encoder, so every line a zap logger (and so
// Caddy) writes through it is scrubbed whole: message, fields, nested objects
// and stack traces alike. [Scrubber.Field] scrubs a single zap field, for
// encoders that filter field by field.
package redact
