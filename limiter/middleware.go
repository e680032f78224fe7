package limiter

import (
	"net/http"

	"github.com/llmgate/caddy-llmgate/internal/chain"
)

// Next is the handler a limited request goes on to. Its ServeHTTP returns
// an error, as Caddy's handlers do; a plain http.Handler is adapted by
// Middleware.
type Next = chain.Next

// Middleware limits the requests of a net/http handler. keyFunc returns a
// request's key for each zone given to New, in order ("" where a zone does
// not apply). See Serve.
func (l *Limiter) Middleware(keyFunc func(*http.Request) []string, style HeaderStyle) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		n := chain.Plain{Handler: next}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = l.Serve(w, r, keyFunc(r), style, n)
		})
	}
}
