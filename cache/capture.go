package cache

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmgate/caddy-llmgate/sse"
)

// capture passes an answer to the client unchanged and, as it passes,
// writes it into the answer's flight, for followers and for the store. It
// never delays or buffers what the client gets: every write goes straight
// on, every flush is passed down. It watches a stream's events, because a
// stream is whole only when its terminal event came.
type capture struct {
	http.ResponseWriter
	f      *flight
	fwd    string
	max    int64
	room   int64 // the most bytes the store holds an entry in; -1: no bound
	stored bool  // the stream was stored as its clean end arrived

	// Where a stream is stored once its clean end arrives; cache is nil
	// when it is not stored then.
	cache *Cache
	ctx   context.Context
	// entry is what put hands the store: its key and model from the
	// start, its content type and headers from WriteHeader on. In the
	// capture, not an allocation of its own: Set keeps nothing of it.
	entry Entry

	wroteHeader bool
	storing     bool  // the answer may still be stored
	stream      bool  // a text/event-stream answer
	length      int64 // Content-Length of the answer, -1 when unknown
	written     int64
	events      sse.Parser
	ending      sse.Ending
	gone        bool      // the client failed while followers listen: its errors are not passed on
	status      [1]string // the answer's Cache-Status value, when it has no other
}

func (c *capture) WriteHeader(code int) {
	if c.wroteHeader || code < 200 {
		// 1xx answers (e.g. 103 Early Hints) precede the real one.
		c.ResponseWriter.WriteHeader(code)
		return
	}
	c.wroteHeader = true
	h := c.Header()
	c.length = -1
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
			c.length = n
		}
	}
	ct := h.Get("Content-Type")
	vals := c.copyShared(h)
	c.entry.ContentType, c.entry.Header = ct, Header(vals[numHow:])
	if c.room >= 0 {
		// The entry holds the model, the content type and those
		// headers too.
		c.max = max(min(c.max, c.room-int64(EntryLen(&c.entry))), 0)
	}
	mt := sse.MediaType(ct)
	c.stream = mt == sse.ContentType
	c.storing = code == http.StatusOK && (c.stream || isJSON(mt)) &&
		identity(h.Get("Content-Encoding")) && c.length <= c.max
	c.events.MaxEvent = int(min(c.max, math.MaxInt))
	var follow [][]string // nil when nobody can follow
	if c.f.registered {
		follow = vals
	}
	c.f.start(code, follow, c.stream, c.storing, c.length)
	// Added, after an upstream's own as RFC 9211 lists them, in a slice of
	// the capture's own: no allocation when it is the only one.
	status := forwardStatus(c.fwd, code)
	if prev := h[statusHeader]; len(prev) > 0 {
		h[statusHeader] = append(prev, status)
	} else {
		c.status[0] = status
		h[statusHeader] = c.status[:]
	}
	c.ResponseWriter.WriteHeader(code)
}

// copyShared returns the values of shared's names in h, in its order
// (nil where h has none), in the flight's room for them: the headers a
// follower's answer gets, those a hit gets (what its bytes are: type,
// length, and the encoding when the upstream chose one anyway; for a
// shared error when to try again; from numHow on, what describes the
// answer), and nothing of the upstream's own (cookies, organisation,
// request ids), which belong to the leader's request alone. The values
// are copied, into one array: a handler around the cache may rewrite the
// leader's in place as its answer starts (Caddy's header replacements
// do), and neither followers nor the stored entry may see that.
func (c *capture) copyShared(h http.Header) [][]string {
	vals := c.f.sharedValues[:]
	for i, k := range shared {
		if v := h[k]; len(v) > 0 {
			vals[i] = v
		}
	}
	ownValues(vals)
	return vals
}

// shared are the headers that say how to read an answer's bytes and when
// to ask again, and, from numHow on, those that describe the answer
// (Described). An array, so that a flight has room for their values.
var shared = [...]string{"Content-Type", "Content-Length", "Content-Encoding", "Retry-After", "Retry-After-Ms",
	"Content-Language", "Openai-Model", "Openai-Version"}

// numHow counts the headers of shared that say how to read the bytes and
// when to ask again.
const numHow = 5

// Described are the upstream headers a stored answer keeps (an Entry's
// Header) and a hit replays: they describe the answer itself and stay
// true on replay. None that names the operator's account or one call
// (organisation, project, request id, processing time, rate limits,
// cookies) is kept.
var Described = shared[numHow:len(shared):len(shared)]

func (c *capture) Write(p []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	c.written += int64(len(p))
	end := false
	if c.storing {
		if c.written > c.max {
			c.storing = false
		} else if c.stream && c.ending != sse.Clean {
			end = c.watch(p)
		}
	}
	// Followers first: a slow client of the leader must not hold them up.
	// The end of a stream waits for its entry to be stored.
	c.f.append(p, !end)
	if end {
		if c.cache != nil {
			c.stored = c.cache.put(c.ctx, c, c.f.body())
			// New requests find the entry now, not the flight.
			c.cache.flights.remove(c.entry.Key, c.f)
		}
		c.f.wake()
	}
	// Once the leader's client has gone, the bytes still go down the
	// chain, for the handlers before the cache that count them (a token
	// limit charges the whole upstream call to the request that made it).
	n, err := c.ResponseWriter.Write(p)
	if err != nil && (c.gone || c.f.followed()) {
		// The leader's client went away, but the upstream call goes on
		// for the followers: tell the next handler all is well.
		c.gone = true
		return len(p), nil
	}
	return n, err
}

// watch follows a stream's events; it reports whether p holds its clean
// end. Events after the end are not looked at: the answer is complete.
func (c *capture) watch(p []byte) bool {
	c.events.Feed(p)
	for ev, ok := c.events.Next(); ok; ev, ok = c.events.Next() {
		switch sse.EndingOf(ev) {
		case sse.Failed:
			c.ending, c.storing = sse.Failed, false
			return false
		case sse.Clean:
			c.ending = sse.Clean
			return true
		}
	}
	return false
}

// FlushError flushes the client's writer, as http.ResponseController and
// Caddy's reverse_proxy do for every event of a stream.
func (c *capture) FlushError() error {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if c.gone {
		return nil
	}
	err := http.NewResponseController(c.ResponseWriter).Flush()
	if err != nil && err != http.ErrNotSupported && c.f.followed() {
		c.gone = true
		return nil
	}
	return err
}

// Flush implements http.Flusher for handlers that flush by type assertion.
func (c *capture) Flush() { _ = c.FlushError() }

// Unwrap lets http.ResponseController reach the client's writer (deadlines,
// hijacking).
func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// complete reports whether the captured answer is whole and storable: a
// stream that ended with its terminal event, or an answer of the announced
// length.
func (c *capture) complete() bool {
	switch {
	case !c.storing:
		return false
	case c.stream:
		return c.ending == sse.Clean
	}
	return c.length < 0 || c.written == c.length
}

// isJSON accepts JSON media types (application/json, application/*+json).
func isJSON(mt string) bool {
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

func identity(ce string) bool { return ce == "" || strings.EqualFold(ce, "identity") }
