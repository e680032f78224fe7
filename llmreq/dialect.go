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

// DialectOf tells the API a request speaks by its path: OpenAI's
// endpoints (…/chat/completions, …/completions, …/embeddings,
// …/responses) are OpenAI, Anthropic's Messages API (…/v1/messages) is
// Anthropic, under any prefix a gateway routes by. On other paths, a
// request with Anthropic's anthropic-version or x-api-key header is
// Anthropic; any other is OpenAI.
func DialectOf(r *http.Request) Dialect {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/v1/messages"):
		return Anthropic
	case strings.HasSuffix(p, "/completions"), strings.HasSuffix(p, "/embeddings"), strings.Contains(p, "/responses"):
		return OpenAI
	case r.Header.Get("Anthropic-Version") != "" || r.Header.Get("X-Api-Key") != "":
		return Anthropic
	}
	return OpenAI
}
