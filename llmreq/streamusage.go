package llmreq

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// AsksNoStreamUsage reports whether r is an OpenAI chat completion stream
// that leaves its usage out: f (r's Fields) says it streams and has no
// stream_options, so the stream will not report its usage unless asked.
func AsksNoStreamUsage(r *http.Request, f *Fields) bool {
	return f.Stream && !f.StreamOptions && DialectOf(r) == OpenAI &&
		strings.HasSuffix(r.URL.Path, "/chat/completions")
}

// streamUsage is the member that makes a chat completion stream report
// its usage, in a last chunk with no choices.
const streamUsage = `"stream_options":{"include_usage":true}`

// AskStreamUsage returns body, a JSON object without a stream_options
// member, with one asking for the stream's usage as its first member.
// Anything else is returned as it is.
func AskStreamUsage(body []byte) []byte {
	open := bytes.IndexByte(body, '{')
	if open < 0 || len(bytes.TrimSpace(body[:open])) > 0 {
		return body
	}
	out := make([]byte, 0, len(body)+len(streamUsage)+1)
	out = append(out, body[:open+1]...)
	out = append(out, streamUsage...)
	if rest := bytes.TrimLeft(body[open+1:], " \t\r\n"); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[open+1:]...)
}

// SetBody makes body what r sends on: r.Body, r.ContentLength and its
// Content-Length header; closing r.Body still closes the body the client
// sent. The Memo in r's context forgets the body it read: the handlers
// after read the new one, so a cache keys on the request the upstream
// answers (a stream asked for its usage is not the stream the client
// asked for, and must not be served to a client that did not).
func SetBody(r *http.Request, body []byte) {
	closer := r.Body
	if closer == nil {
		closer = http.NoBody
	}
	r.Body = &replayBody{buf: body, closer: closer}
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if m := FromContext(r.Context()); m != nil {
		*m = Memo{}
	}
}
