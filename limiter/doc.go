// Package limiter rate-limits HTTP requests to LLM APIs: token bucket,
// leaky bucket and fixed-window limits on requests, on LLM tokens (all,
// prompt or generated) and on their cost in USD priced per model, and caps
// on the number of requests of one key in flight.
//
// A Limiter holds a list of zones. Each request names one key per zone (for
// example the client's credential); Admit decides all zones together and
// either admits the request in every zone or in none, so a zone that refuses
// never leaves budget spent in the others.
//
// Token and cost limits reserve, then correct. AdmitSpend reserves a
// request's estimated tokens (github.com/llmgate/caddy-llmgate/usage
// estimates them from the request body) and their cost (priced by a
// github.com/llmgate/caddy-llmgate/pricing table) and refuses a request that does not fit; when the
// answer ends, Ticket.Settle corrects the charge to the usage the answer
// reports, giving back what was not spent or leaving debt that delays the
// key's next requests, and Ticket.Refund gives back everything for an
// answer that spent nothing.
//
// Keys are hashed with SHA-256 before any store sees them. Token and leaky
// buckets keep a single timestamp per key (GCRA) in a BucketStore; fixed
// windows keep a counter per key in a github.com/ulule/limiter/v3 store.
// The zones whose buckets are one BatchStore are charged together: on
// Redis, a request's charges in all of them take one round trip.
// Stores are standalone objects, so a server can keep them across
// configuration reloads and hand them to each new Limiter.
//
// The package has no dependency on Caddy: Limiter.Middleware wraps any
// net/http handler, and Ticket.SetHeaders and Ticket.WriteRefusal produce the
// headers and the 429 answer in the shape OpenAI's SDKs understand.
package limiter
