package cache

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
)

// flight is one upstream answer in progress. The request that asked for it
// (the leader) writes the answer into it as the answer passes to its own
// client; identical requests that arrive meanwhile (followers) send it to
// their clients from there: a stream as its bytes arrive, any other answer
// once it is complete.
//
// The flight keeps the answer's bytes so that a follower joining late gets
// everything so far, at most max of them: past that, bytes every follower
// has sent are dropped, a follower that lags further behind is cut off,
// and no new follower may join.
type flight struct {
	max        int64
	registered bool // other requests can find and join it

	mu        sync.Mutex
	status    int        // 0 until the answer's header is written
	header    [][]string // the values of the headers followers get (see followerHeader)
	stream    bool       // followers get the bytes as they arrive
	buf       []byte     // the answer's bytes from offset base on
	base      int64
	dropped   bool // bytes were dropped: the flight cannot give a whole answer
	done      bool
	ok        bool  // the answer ended as it should
	err       error // what the leader's next handler returned
	followers []*follower
	listeners int                // clients still waiting: the leader's and the followers'
	cancel    context.CancelFunc // ends the upstream call when nobody listens

	// leader is the leader's writer, and sharedValues the room of header:
	// they live as long as the flight and belong to it alone, so they come
	// with its allocation rather than in their own.
	leader       capture
	sharedValues [len(shared)][]string
}

// follower is one request waiting on a flight.
type follower struct {
	wake chan struct{} // signalled when the flight changes
	pos  int64         // offset of the next byte to send
	lost bool          // bytes it had not sent were dropped
}

func newFlight(max int64, registered bool) *flight {
	return &flight{max: max, registered: registered, listeners: 1}
}

// join adds a follower, unless the flight can no longer give it the whole
// answer or its upstream call was given up.
func (f *flight) join() *follower {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropped || f.done && !f.ok || f.listeners == 0 {
		return nil
	}
	fo := &follower{wake: make(chan struct{}, 1)}
	f.followers = append(f.followers, fo)
	f.listeners++
	return fo
}

// followed reports whether followers are waiting for the answer.
func (f *flight) followed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.followers) > 0
}

// leave takes a client that went away out of the flight: the leader's
// (fo nil) or a follower's. When the last one leaves, the upstream call
// ends.
func (f *flight) leave(fo *follower) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fo != nil {
		i := slices.Index(f.followers, fo)
		if i < 0 {
			return // already cut off
		}
		f.followers = slices.Delete(f.followers, i, i+1)
	}
	f.release()
}

// release counts one listener less; f.mu must be held.
func (f *flight) release() {
	f.listeners--
	if f.listeners == 0 && f.cancel != nil {
		f.cancel()
	}
}

// start records the answer's status and headers. keep says whether its
// bytes are worth keeping when no follower can join; length is its
// Content-Length, -1 when unknown.
func (f *flight) start(status int, header [][]string, stream, keep bool, length int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.header, f.stream = status, header, stream
	switch {
	case length > f.max || !keep && !f.registered:
		f.drop(math.MaxInt64)
	case length > 0:
		f.buf = make([]byte, 0, length)
	}
	f.wakeAll()
}

// append adds bytes of the answer and, when wake, tells the followers.
func (f *flight) append(p []byte, wake bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropped && len(f.followers) == 0 {
		f.base += int64(len(p))
		return
	}
	f.buf = append(f.buf, p...)
	if over := int64(len(f.buf)) - f.max; over > 0 {
		f.drop(f.base + over)
	}
	if wake {
		f.wakeAll()
	}
}

// wake tells the followers the flight changed.
func (f *flight) wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wakeAll()
}

// drop cuts off the followers that have not sent the bytes before offset
// cut, then drops the bytes every remaining follower has sent. Readers may
// still hold the dropped bytes: they are never overwritten, only left to
// the garbage collector. f.mu must be held.
func (f *flight) drop(cut int64) {
	f.dropped = true
	end := f.base + int64(len(f.buf))
	from := end
	kept := f.followers[:0]
	for _, fo := range f.followers {
		if fo.pos < cut {
			fo.lost = true
			signal(fo)
			f.release()
			continue
		}
		kept = append(kept, fo)
		from = min(from, fo.pos)
	}
	clear(f.followers[len(kept):])
	f.followers = kept
	if from == end {
		f.buf = nil
	} else {
		f.buf = f.buf[from-f.base:]
	}
	f.base = from
}

// finish marks the answer over: whole (ok) or not, with what the leader's
// next handler returned.
func (f *flight) finish(ok bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done, f.ok, f.err = true, ok && f.status != 0, err
	f.wakeAll()
}

// body returns the whole answer, or nil when bytes of it were dropped.
func (f *flight) body() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropped {
		return nil
	}
	return f.buf
}

// ownValues replaces each slice of vals with a copy, all of them in one
// new array, so that rewriting a value in place (as Caddy's header
// replacements do) changes no other answer's. Their capacity is cut: an
// append copies too.
func ownValues(vals [][]string) {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	own := make([]string, 0, n)
	for i, v := range vals {
		if len(v) > 0 {
			own = append(own, v...)
			vals[i] = own[len(own)-len(v) : len(own) : len(own)]
		}
	}
}

func (f *flight) wakeAll() {
	for _, fo := range f.followers {
		signal(fo)
	}
}

func signal(fo *follower) {
	select {
	case fo.wake <- struct{}{}:
	default:
	}
}

// serve sends the flight's answer to a follower's client, with the
// Cache-Status of a collapsed request (fwd says why it missed the cache).
// It reports retry when the follower got nothing and should ask the
// upstream itself: the flight could not give it the whole answer. When the
// leader's next handler failed before an answer began, serve returns that
// error. A follower cut off mid-answer aborts its response, as a reverse
// proxy does when its upstream breaks off, so its client sees an
// incomplete answer rather than a short one. A follower whose client goes
// away leaves the flight and returns nil.
func (f *flight) serve(w http.ResponseWriter, r *http.Request, fo *follower, fwd string) (retry bool, err error) {
	started := false
	for {
		f.mu.Lock()
		status, header, stream := f.status, f.header, f.stream
		done, ok, ferr, lost := f.done, f.ok, f.err, fo.lost
		ready := !lost && status != 0 && (started || stream || done && ok)
		var chunk []byte
		if ready {
			chunk = f.buf[fo.pos-f.base:]
			fo.pos += int64(len(chunk))
		}
		f.mu.Unlock()

		if !started {
			switch {
			case lost || done && !ok && ferr == nil:
				return true, nil
			case done && !ok:
				return false, ferr
			case ready:
				// The follower's own copy: a handler around the cache
				// may rewrite its values in place.
				var mine [len(shared)][]string
				copy(mine[:], header)
				ownValues(mine[:])
				h := w.Header()
				for i, v := range mine {
					if v != nil {
						h[shared[i]] = v
					}
				}
				h.Add(statusHeader, forwardStatus(fwd, status)+"; collapsed")
				w.WriteHeader(status)
				started = true
			}
		}
		if len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				f.leave(fo)
				return false, nil
			}
			if stream {
				_ = http.NewResponseController(w).Flush()
			}
		}
		if started && (lost || done) {
			if lost || !ok {
				panic(http.ErrAbortHandler)
			}
			return false, nil
		}
		select {
		case <-fo.wake:
		case <-r.Context().Done():
			f.leave(fo)
			return false, nil
		}
	}
}
