// Package pricing prices LLM usage per model, for spend budgets: a table
// of per-token prices by model glob, read from configuration or from a
// LiteLLM-shaped price file, and the cost of an answer's usage or of a
// request's estimate.
//
// Amounts are integers, never floats: prices in millionths of a USD per
// million tokens (PerMillion, so picodollars per token), costs in
// millionths of a USD (Micros). Prices are read from decimal text exactly.
package pricing
