package llmreq

import (
	"encoding/json"
	"net/http"
)

// APIError is an answer llmgate gives itself instead of the upstream's,
// in the error shape of OpenAI's API, which OpenAI's SDKs parse:
// {"error":{"message":…,"type":…,"param":null,"code":…}}. (Anthropic's
// SDKs classify an error by its status and show the body as it is.)
type APIError struct {
	// Status is the answer's HTTP status.
	Status int
	// Type is OpenAI's error type: "invalid_request_error", or for a 429
	// the kind of limit ("requests", "tokens").
	Type string
	// Code is OpenAI's machine-readable code, e.g. "rate_limit_exceeded".
	Code string
	// Message says what happened, for people.
	Message string
}

// Error returns the message.
func (e *APIError) Error() string { return e.Message }

// Write sends e as the answer, with the headers w already holds.
func (e *APIError) Write(w http.ResponseWriter) {
	var body struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    string  `json:"code"`
		} `json:"error"`
	}
	body.Error.Message, body.Error.Type, body.Error.Code = e.Message, e.Type, e.Code
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}
