package limiter

import (
	"net/http"
)

// storeDownBody is the 503 body when a store fails and FailClosed is set.
const storeDownBody = `{"error":{"message":"llmgate: rate limit store unavailable","type":"server_error","param":null,"code":"rate_limit_unavailable"}}`

// Middleware limits the requests of a net/http handler. keyFunc returns a
// request's key for each zone given to New, in order ("" where a zone does
// not apply). Refused requests get WriteRefusal's answer; admitted ones run
// next and carry the headers of style on their answer, replacing any next
// set. A client that leaves while its request waits gets no answer.
func (l *Limiter) Middleware(keyFunc func(*http.Request) []string, style HeaderStyle) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, err := l.Admit(r.Context(), keyFunc(r))
			if err != nil {
				if l.opts.OnError != nil {
					l.opts.OnError(err)
				}
				if l.opts.FailClosed {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = w.Write([]byte(storeDownBody))
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			if !t.Allowed {
				if r.Context().Err() == nil {
					t.WriteRefusal(w, style)
				}
				return
			}
			defer t.Done()
			hw := &headerWriter{ResponseWriter: w, ticket: t, style: style}
			next.ServeHTTP(hw, r)
			if !hw.wroteHeader {
				// The server writes the header after next returns.
				t.SetHeaders(w.Header(), style)
			}
		})
	}
}

// headerWriter sets the ticket's headers when the answer's header is
// written, after the handler (a proxy copying an upstream's headers) has
// set its own.
type headerWriter struct {
	http.ResponseWriter
	ticket      *Ticket
	style       HeaderStyle
	wroteHeader bool
}

// WriteHeader implements http.ResponseWriter. Informational (1xx) headers
// pass as they are; the final one gets the rate-limit headers.
func (w *headerWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= http.StatusOK {
		w.wroteHeader = true
		w.ticket.SetHeaders(w.Header(), w.style)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *headerWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher, for streamed answers.
func (w *headerWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *headerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
