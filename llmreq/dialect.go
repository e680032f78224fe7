package llmreq

import (
	"net/http"
	"strings"
)

// Dialect is the API a request speaks. It decides the shape of the
// answers llmgate gives in the upstream's place (errors, rate-limit
// headers), so that the caller's SDK reads them as its provider's own.
type Dialect uint8

// The dialects llmgate answers in.
const (
	// OpenAI is OpenAI's API and the many that copy it.
	OpenAI Dialect = iota
	// Anthropic is Anthropic's Messages API.
	Anthropic
)

// DialectOf returns Anthropic for a request to a Messages API path
// (…/v1/messages, under any prefix a gateway routes by) or one that
// carries Anthropic's anthropic-version or x-api-key header; OpenAI
// otherwise.
func DialectOf(r *http.Request) Dialect {
	if strings.Contains(r.URL.Path, "/v1/messages") ||
		r.Header.Get("Anthropic-Version") != "" || r.Header.Get("X-Api-Key") != "" {
		return Anthropic
	}
	return OpenAI
}
