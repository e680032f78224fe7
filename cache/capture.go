package cache

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// capture passes an answer to the client unchanged and keeps a copy of it
// while the answer may still be stored: a 200, JSON, not content-encoded,
// no larger than max. It never delays or buffers what the client gets.
type capture struct {
	http.ResponseWriter
	fwd         string
	max         int64
	status      int
	wroteHeader bool
	storing     bool
	length      int64 // Content-Length of the answer, -1 when unknown
	body        []byte
}

func (c *capture) WriteHeader(code int) {
	if c.wroteHeader || code < 200 {
		// 1xx answers (e.g. 103 Early Hints) precede the real one.
		c.ResponseWriter.WriteHeader(code)
		return
	}
	c.wroteHeader = true
	c.status = code
	h := c.Header()
	c.length = -1
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
			c.length = n
		}
	}
	c.storing = code == http.StatusOK && storableType(h.Get("Content-Type")) &&
		identity(h.Get("Content-Encoding")) && c.length <= c.max
	if c.storing && c.length > 0 {
		c.body = make([]byte, 0, c.length)
	}
	h.Add(statusHeader, forwardStatus(c.fwd, code, c.storing))
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(p []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if c.storing {
		if int64(len(c.body)+len(p)) > c.max {
			c.storing, c.body = false, nil
		} else {
			c.body = append(c.body, p...)
		}
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the client's writer (Flush,
// deadlines), as Caddy's reverse_proxy does for streamed answers.
func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// complete reports whether the captured answer is whole and storable.
func (c *capture) complete() bool {
	return c.storing && (c.length < 0 || int64(len(c.body)) == c.length)
}

// storableType accepts JSON answers (application/json, application/*+json).
func storableType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

func identity(ce string) bool { return ce == "" || strings.EqualFold(ce, "identity") }
