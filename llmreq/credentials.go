package llmreq

import "net/http"

// credentialHeaders carry the caller's API key in the APIs llmgate fronts:
// OpenAI (Authorization), Anthropic (x-api-key) and Azure OpenAI (api-key).
var credentialHeaders = []string{"Authorization", "X-Api-Key", "Api-Key"}

// Credentials returns every credential header of h, names and values, in
// one string: two requests get the same string only when they carry the
// same credentials. It is the caller's identity for cache scopes and rate
// limit keys, and must be hashed before it is stored or logged.
func Credentials(h http.Header) string {
	var p string
	for _, name := range credentialHeaders {
		for _, v := range h[name] {
			p += name + ":" + v + "\n"
		}
	}
	return p
}
