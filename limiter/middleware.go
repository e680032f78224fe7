package limiter

import (
	"net/http"
)

// storeDownBody is the 503 body when a store fails and FailClosed is set.
const storeDownBody = `{"error":{"message":"llmgate: rate limit store unavailable","type":"server_error","param":null,"code":"rate_limit_unavailable"}}`

// Next is the handler a limited request goes on to. Its ServeHTTP returns
// an error, as Caddy's handlers do; a plain http.Handler is adapted by
// Middleware.
type Next interface {
	ServeHTTP(http.ResponseWriter, *http.Request) error
}

// handlerNext adapts a plain http.Handler, which reports no errors.
type handlerNext struct{ http.Handler }

func (h handlerNext) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	h.Handler.ServeHTTP(w, r)
	return nil
}

// Middleware limits the requests of a net/http handler. keyFunc returns a
// request's key for each zone given to New, in order ("" where a zone does
// not apply). See Serve.
func (l *Limiter) Middleware(keyFunc func(*http.Request) []string, style HeaderStyle) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		n := handlerNext{next}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = l.Serve(w, r, keyFunc(r), style, n)
		})
	}
}

// Serve decides r with keys (one per zone given to New, "" where a zone
// does not apply) and runs next if it is admitted. Refused requests get
// WriteRefusal's answer; admitted ones carry the headers of style on their
// answer, replacing any next set. A client that leaves while its request
// waits gets no answer. When a store fails, the request is admitted
// unlimited, or answered 503 with FailClosed. The error is next's.
func (l *Limiter) Serve(w http.ResponseWriter, r *http.Request, keys []string, style HeaderStyle, next Next) error {
	t, err := l.Admit(r.Context(), keys)
	if err != nil {
		if l.opts.OnError != nil {
			l.opts.OnError(err)
		}
		if l.opts.FailClosed {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(storeDownBody))
			return nil
		}
		return next.ServeHTTP(w, r)
	}
	if !t.Allowed {
		if r.Context().Err() == nil {
			t.WriteRefusal(w, style)
		}
		return nil
	}
	defer t.Done()
	hw := &headerWriter{ResponseWriter: w, ticket: t, style: style}
	err = next.ServeHTTP(hw, r)
	if !hw.wroteHeader {
		// The server writes the header after next returns.
		t.SetHeaders(w.Header(), style)
	}
	return err
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
