package llmreq

import (
	"net/http"
	"net/url"
	"strings"
)

// CredentialHeaders carry the caller's API key in the APIs llmgate fronts:
// OpenAI (Authorization), Anthropic (x-api-key), Azure OpenAI (api-key)
// and Google (x-goog-api-key, or the query parameter key).
var CredentialHeaders = [...]string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key"}

// ErrConflictingCredentials is Credential's error for a request that
// carries two different credentials: two values of one header, or two
// headers (or a header and ?key=) that disagree. Which one the upstream
// would honour is its own choice, so llmgate cannot tell whose request it
// is; and a caller free to vary a second credential beside a good one
// would open a fresh rate-limit bucket with every request. It is answered
// 400 in OpenAI's error shape, before anything is counted or cached.
var ErrConflictingCredentials = &APIError{
	Status:  http.StatusBadRequest,
	Type:    "invalid_request_error",
	Code:    "conflicting_credentials",
	Message: "llmgate: the request carries two different credentials (Authorization, x-api-key, api-key, x-goog-api-key, ?key=); send one",
}

// Credential returns the caller's credential: the one key the request
// carries in its Authorization, x-api-key, api-key or x-goog-api-key
// header or its key query parameter. It is the caller's identity for cache
// scopes and rate-limit keys, and must be hashed before it is stored or
// logged.
//
// The key is normalised so that one key spelt differently is one
// identity: spaces and tabs around it and after the scheme are dropped, a
// Bearer scheme (in any case) is dropped, since a bearer token is the key
// itself, and any other scheme is kept in lower case before its
// credentials ("basic dXNlcg=="); the query parameter is percent-decoded.
// So "Authorization: bearer  K", "x-api-key: K" and "?key=K" are one
// caller, and "Basic K" another. Empty values, and Bearer alone (what an
// SDK given an empty key sends), carry no key.
//
// Credential returns "" for a request without a key, and
// ErrConflictingCredentials for one with two different keys. It
// allocates only to lower a scheme other than Bearer or to decode a
// percent-encoded query parameter.
//
// For a request whose context carries an identity a gateway proved
// (WithIdentity), Credential returns that identity, set apart from every
// credential a caller could send, whatever headers the request has.
func Credential(r *http.Request) (string, error) {
	if id, ok := r.Context().Value(identityKey{}).(string); ok {
		return identityPrefix + id, nil
	}
	var first credential
	for _, name := range CredentialHeaders {
		for _, v := range r.Header[name] {
			c := credential{value: trimSpace(v)}
			if name == "Authorization" {
				c = authorization(c.value)
			}
			if !first.join(c) {
				return "", ErrConflictingCredentials
			}
		}
	}
	for q := r.URL.RawQuery; q != ""; {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		name, value, _ := strings.Cut(pair, "=")
		if isKeyName(name) && !first.join(credential{value: trimSpace(unescape(value))}) {
			return "", ErrConflictingCredentials
		}
	}
	c := first.String()
	if strings.HasPrefix(c, identityPrefix) {
		// A percent-encoded ?key= can hold a NUL: a credential spelt
		// like a proven identity is set apart from it.
		c = "\x00" + c
	}
	return c, nil
}

// credential is one key as a request spells it: its auth scheme ("" for
// a bare key or a bearer token) and the key.
type credential struct {
	scheme, value string
}

// equal reports whether c and o are the same key: schemes are
// case-insensitive (RFC 9110, section 11.1), keys are not.
func (c credential) equal(o credential) bool {
	return c.value == o.value && strings.EqualFold(c.scheme, o.scheme)
}

// join makes o the request's key c if c is none yet, and reports whether
// o is no key or the same key as c.
func (c *credential) join(o credential) bool {
	switch {
	case o.value == "":
		return true
	case c.value == "":
		*c = o
		return true
	}
	return c.equal(o)
}

// String is the normalised form: the key, after its scheme in lower case
// when it has one other than Bearer.
func (c credential) String() string {
	if c.scheme == "" {
		return c.value
	}
	var b strings.Builder
	b.Grow(len(c.scheme) + 1 + len(c.value))
	for i := range len(c.scheme) {
		ch := c.scheme[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b.WriteByte(ch)
	}
	b.WriteByte(' ')
	b.WriteString(c.value)
	return b.String()
}

// authorization splits an Authorization value, already trimmed, into its
// scheme and credentials. A value of one word is a bare key, unless it is
// the word Bearer: an SDK given an empty key sends "Bearer ".
func authorization(v string) credential {
	if token, ok := BearerToken(v); ok {
		return credential{value: token}
	}
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return credential{value: v}
	}
	return credential{scheme: v[:i], value: trimSpace(v[i:])}
}

// BearerToken returns the token of an Authorization value of the Bearer
// scheme: the scheme in any case, ended by a space or a tab (RFC 9110's
// whitespace), spaces and tabs around the token dropped. Bearer alone (what
// an SDK given an empty key sends) has the token "". ok is false for any
// other value.
func BearerToken(v string) (token string, ok bool) {
	v = trimSpace(v)
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return "", strings.EqualFold(v, "bearer")
	}
	if !strings.EqualFold(v[:i], "bearer") {
		return "", false
	}
	return trimSpace(v[i:]), true
}

// WithoutKeyParams returns rawQuery without the parameters Credential
// reads as a key (named key in any case or percent-encoding), the others
// kept as they were sent.
func WithoutKeyParams(rawQuery string) string {
	var b strings.Builder
	dropped := false
	for q := rawQuery; q != ""; {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if name, _, _ := strings.Cut(pair, "="); isKeyName(name) {
			dropped = true
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	if !dropped {
		return rawQuery
	}
	return b.String()
}

// isKeyName reports whether a query parameter's name, as sent, is "key"
// in any case or percent-encoding: an upstream that decodes names or
// ignores their case reads it as the key.
func isKeyName(name string) bool {
	if strings.ContainsAny(name, "%+") {
		name = unescape(name)
	}
	return strings.EqualFold(name, "key")
}

// unescape percent-decodes a query component; a malformed one is taken
// as it stands.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// trimSpace drops the spaces and tabs around a header value (RFC 9110's
// optional whitespace).
func trimSpace(s string) string {
	return strings.Trim(s, " \t")
}
