package llmreq

import "context"

type identityKey struct{}

// WithIdentity returns ctx carrying the identity a gateway proved for its
// request, such as the id of the gateway key it presented (which the
// gateway then removed): Credential returns it in place of the request's
// credential headers, so limits and cache scopes that key on the caller
// key on who the gateway proved it to be.
func WithIdentity(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// identityPrefix sets proven identities apart from credentials: no
// caller can present a credential that passes for one, as HTTP forbids
// a NUL in a header value (net/http refuses such a request).
const identityPrefix = "\x00identity:"
