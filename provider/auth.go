package provider

import (
	"fmt"
	"net/http"

	"github.com/llmgate/caddy-llmgate/llmreq"
)

// Auth is how a provider takes its credential.
type Auth string

// The credential styles.
const (
	// Bearer sends "Authorization: Bearer <key>" (OpenAI and most
	// OpenAI-compatible APIs).
	Bearer Auth = "bearer"
	// XAPIKey sends "x-api-key: <key>", and anthropic-version when the
	// request has none (Anthropic).
	XAPIKey Auth = "x-api-key"
	// APIKey sends "api-key: <key>" (Azure OpenAI).
	APIKey Auth = "api-key"
	// Query sends the key as the query parameter key (Google).
	Query Auth = "query"
	// None sends no credential: the upstream needs none, or a later
	// handler sets it.
	None Auth = "none"
)

// AnthropicVersion is the anthropic-version XAPIKey sets on a request
// that has none.
const AnthropicVersion = "2023-06-01"

// ParseAuth reads a style name.
func ParseAuth(s string) (Auth, error) {
	switch a := Auth(s); a {
	case Bearer, XAPIKey, APIKey, Query, None:
		return a, nil
	}
	return "", fmt.Errorf("unknown auth %q (want bearer, x-api-key, api-key, query or none)", s)
}

// Strip removes every credential r carries: the headers of
// llmreq.CredentialHeaders, in any spelling and however many, and the key
// query parameter in every spelling the limiter reads as a key (any case,
// percent-encoded). A request is never sent with a caller's credential
// beside the provider's.
func Strip(r *http.Request) {
	for _, name := range llmreq.CredentialHeaders {
		r.Header.Del(name)
	}
	r.URL.RawQuery = llmreq.WithoutKeyParams(r.URL.RawQuery)
}

// set sets secret on r, stripped before, in style a.
func (a Auth) set(r *http.Request, secret string) {
	switch a {
	case Bearer:
		r.Header["Authorization"] = []string{"Bearer " + secret}
	case XAPIKey:
		r.Header["X-Api-Key"] = []string{secret}
		if r.Header.Get("Anthropic-Version") == "" {
			r.Header.Set("Anthropic-Version", AnthropicVersion)
		}
	case APIKey:
		r.Header["Api-Key"] = []string{secret}
	case Query:
		q := r.URL.Query()
		q.Set("key", secret)
		r.URL.RawQuery = q.Encode()
	}
}
