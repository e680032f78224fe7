package llmreq

import (
	"encoding/json"
	"errors"
	"net/http"
)

// APIError is an answer llmgate gives itself instead of the upstream's,
// in the error shape of the API the request speaks (DialectOf), which
// that provider's SDKs parse: OpenAI's
// {"error":{"message":…,"type":…,"param":null,"code":…}}, or Anthropic's
// {"type":"error","error":{"type":…,"message":…}}.
type APIError struct {
	// Status is the answer's HTTP status.
	Status int
	// Type is OpenAI's error type: "invalid_request_error", or for a 429
	// the kind of limit ("requests", "tokens"). Anthropic's type follows
	// from Status.
	Type string
	// Code is OpenAI's machine-readable code, e.g. "rate_limit_exceeded".
	Code string
	// Message says what happened, for people.
	Message string
}

// Error returns the message.
func (e *APIError) Error() string { return e.Message }

// WriteRefusal sends err as the answer to r when it is an *APIError, and
// reports whether it did. (It looks only at a non-nil err: errors.As
// would move its target to the heap on every request.)
func WriteRefusal(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	e.Write(w, r)
	return true
}

// Write sends e as the answer to r, with the headers w already holds.
func (e *APIError) Write(w http.ResponseWriter, r *http.Request) {
	var b []byte
	if DialectOf(r) == Anthropic {
		var body struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		body.Type, body.Error.Type, body.Error.Message = "error", AnthropicErrorType(e.Status), e.Message
		b, _ = json.Marshal(body)
	} else {
		var body struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    string  `json:"code"`
			} `json:"error"`
		}
		body.Error.Message, body.Error.Type, body.Error.Code = e.Message, e.Type, e.Code
		b, _ = json.Marshal(body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// AnthropicErrorType is the error type Anthropic's API gives with status.
func AnthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529: // Anthropic's own: its servers are overloaded
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}
