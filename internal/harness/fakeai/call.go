package fakeai

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// created is the fixed "created" timestamp of every answer (2025-01-01), so
// answers stay deterministic apart from the call number.
const created = 1735689600

// call is one request being answered.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	rc        *http.ResponseController
	n         int
	body      []byte
	anthropic bool
	k         knobs
	req       request
}

// num is the call number as text, for ids and answers.
func (c *call) num() string { return strconv.Itoa(c.n) }

// usageFor is the usage to report for an answer whose content is worth
// completion tokens: x-fake-usage if given, else ceil(len(body)/4) prompt
// tokens; the prompt cache's counts from x-fake-cached and
// x-fake-cache-write.
func (c *call) usageFor(completion int) usage {
	u := usage{prompt: tokens(len(c.body)), completion: completion}
	if c.k.usage != nil {
		u = *c.k.usage
	}
	u.cached, u.cacheWrite = c.k.cached, c.k.cacheWrite
	return u
}

// wait sleeps for d unless the client goes away first; it reports whether
// the answer should go on.
func (c *call) wait(d time.Duration) bool {
	if d <= 0 {
		return c.r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.r.Context().Done():
		return false
	}
}

// writeJSON answers v as JSON with status after x-fake-delay, honouring
// x-fake-gzip and x-fake-die-after (half the body under the full
// Content-Length, then a cut connection).
func (c *call) writeJSON(status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(c.w, "fakeai: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	if c.k.gzip {
		body = gzipped(body)
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if !c.wait(c.k.delay) {
		return
	}
	c.w.WriteHeader(status)
	if c.k.dieAfter >= 0 {
		_, _ = c.w.Write(body[:len(body)/2])
		c.cut()
		return
	}
	_, _ = c.w.Write(body)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return buf.Bytes()
}

// cut flushes what was written and closes the connection under the
// response, so the client sees an unexpected EOF instead of a clean end.
func (c *call) cut() {
	_ = c.rc.Flush()
	conn, _, err := c.rc.Hijack()
	if err != nil {
		// The connection cannot be taken over (HTTP/2): abort the response,
		// which net/http also turns into a broken stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// event is one server-sent event; name is empty for unnamed (data-only)
// events. data is marshalled to JSON unless it is rawData.
type event struct {
	name string
	data any
}

// rawData is event data sent verbatim, such as "[DONE]".
type rawData string

// done is the OpenAI end-of-stream marker.
var done = event{data: rawData("[DONE]")}

// stream answers events as text/event-stream, flushing after each one,
// with x-fake-delay before each event, x-fake-gzip, and x-fake-die-after
// (the connection is cut after that many events, even if all were sent).
func (c *call) stream(events []event) {
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	var out io.Writer = c.w
	var zw *gzip.Writer
	if c.k.gzip {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		zw = gzip.NewWriter(c.w)
		out = zw
	}
	c.w.WriteHeader(http.StatusOK)
	_ = c.rc.Flush()
	var buf []byte
	for i, ev := range events {
		if i == c.k.dieAfter {
			c.cut()
			return
		}
		if !c.wait(c.k.delay) {
			return
		}
		buf = appendEvent(buf[:0], ev)
		if _, err := out.Write(buf); err != nil {
			return
		}
		if zw != nil {
			_ = zw.Flush()
		}
		if err := c.rc.Flush(); err != nil {
			return
		}
	}
	if c.k.dieAfter >= 0 {
		c.cut()
		return
	}
	if zw != nil {
		_ = zw.Close()
	}
}

func appendEvent(b []byte, ev event) []byte {
	if ev.name != "" {
		b = append(b, "event: "...)
		b = append(b, ev.name...)
		b = append(b, '\n')
	}
	b = append(b, "data: "...)
	if raw, ok := ev.data.(rawData); ok {
		b = append(b, raw...)
	} else {
		data, err := json.Marshal(ev.data)
		if err != nil {
			data = []byte(`{"error":{"message":"fakeai: cannot encode event"}}`)
		}
		b = append(b, data...)
	}
	return append(b, "\n\n"...)
}
