package sse

import "strings"

// ContentType is the media type of a stream of server-sent events.
const ContentType = "text/event-stream"

// MediaType returns the media type of a Content-Type value, without its
// parameters, in lower case: "text/event-stream" for
// "Text/Event-Stream; charset=utf-8". Unlike mime.ParseMediaType it reads
// no parameter and allocates only to lower a type not in lower case, as
// every answer's header is read for it.
func MediaType(contentType string) string {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	for i := 0; i < len(mt); i++ {
		if c := mt[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(mt)
		}
	}
	return mt
}
