package llmreq

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// AsksNoStreamUsage reports whether r is an OpenAI chat completion stream
// that leaves its usage out: f (r's Fields) says it streams and does not
// ask for its usage (stream_options.include_usage true), so the stream
// will not report it unless asked.
func AsksNoStreamUsage(r *http.Request, f *Fields) bool {
	return f.Stream && !f.StreamUsage && DialectOf(r) == OpenAI &&
		strings.HasSuffix(r.URL.Path, "/chat/completions")
}

// streamUsage is the member that makes a chat completion stream report
// its usage, in a last chunk with no choices.
const streamUsage = `"stream_options":{"include_usage":true}`

// AskStreamUsage returns body, a JSON object whose Fields are f, asking
// for the stream's usage. A body without stream_options gets the member
// as its first. One with stream_options (which does not ask for the
// usage) is sent in its canonical form with one stream_options first:
// the members of the last one given (the one upstream parsers read), when
// it is an object, less include_usage, then "include_usage":true last, so
// that other stream options (include_obfuscation) stay and nothing a
// caller writes keeps the usage out. Anything that is not a JSON object
// is returned as it is.
func AskStreamUsage(body []byte, f *Fields) []byte {
	if f.StreamOptions {
		return replaceStreamOptions(body)
	}
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

// replaceStreamOptions returns the canonical form of body with its
// stream_options members, however spelt (the canonical form decodes
// names), replaced by one that asks for the usage and keeps the other
// options of the last.
func replaceStreamOptions(body []byte) []byte {
	q, err := Parse(body)
	if err != nil || len(q.Canonical) == 0 || q.Canonical[0] != '{' {
		return body
	}
	var last []byte // the last stream_options' canonical value
	for _, m := range q.tops {
		if !m.esc && string(q.name(m)) == "stream_options" {
			last = q.value(m)
		}
	}
	out := make([]byte, 0, len(q.Canonical)+len(streamUsage)+1)
	out = append(out, `{"stream_options":{`...)
	if len(last) > 0 && last[0] == '{' {
		if opts, err := Parse(last); err == nil {
			for _, m := range opts.tops {
				// Canonical names are decoded: an escape spells no other name.
				if m.esc || string(opts.name(m)) != "include_usage" {
					out = append(append(out, opts.Canonical[m.start:m.end]...), ',')
				}
			}
		}
	}
	out = append(out, `"include_usage":true}`...)
	for _, m := range q.tops {
		if !m.esc && string(q.name(m)) == "stream_options" {
			continue
		}
		out = append(out, ',')
		out = append(out, q.Canonical[m.start:m.end]...)
	}
	return append(out, '}')
}

// SetBody makes body what r sends on, from its first byte: r.Body,
// r.ContentLength and its Content-Length header; closing r.Body still
// closes the body the client sent. Each call makes a new reader: a
// transport still finishing an earlier attempt keeps reading its own. m,
// r's Memo (nil: none), forgets the body it read: the handlers after read
// the new one, so a cache keys on the request the upstream answers (a
// stream asked for its usage is not the stream the client asked for, and
// must not be served to a client that did not), and a retry that sends
// the body again from its start is read anew. What the new body says is
// known (Known) without reading it from r.
func (m *Memo) SetBody(r *http.Request, body []byte) {
	r.Body = replayAgain(r, body)
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if m != nil {
		m.bodyState = bodyState{read: true, body: body}
	}
}
