// Package chain holds what llmgate's middleware libraries share about the
// handler they pass requests on to.
package chain

import "net/http"

// Next is the rest of the handler chain. Errors it returns are passed back
// to the caller unchanged (Caddy handlers report failures that way); a
// caddyhttp.Handler is a Next as it is.
type Next interface {
	ServeHTTP(http.ResponseWriter, *http.Request) error
}

// Plain adapts a plain http.Handler, which reports no errors.
type Plain struct{ http.Handler }

// ServeHTTP implements Next.
func (h Plain) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	h.Handler.ServeHTTP(w, r)
	return nil
}
