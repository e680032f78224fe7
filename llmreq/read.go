package llmreq

import (
	"io"
	"math"
	"net/http"
)

// minRead is the first buffer size when the body's length is not announced.
const minRead = 512

// maxFirstRead bounds the first buffer when the length is announced, so that
// a client announcing a large body and sending little cannot make Read hold
// much memory.
const maxFirstRead = 1 << 20

// Read reads at most limit bytes of r.Body (a negative limit counts as 0)
// and always leaves r.Body able to send the whole body on unchanged, so the
// next handler, e.g. a reverse proxy, forwards it byte for byte:
//
//   - If the body fits, Read returns it and r.Body is replaced with a fresh
//     reader over the same bytes; closing it closes the original body.
//     r.ContentLength is left as it is. The returned bytes are shared with
//     that reader: do not modify them.
//   - If it is larger than limit, known from r.ContentLength without reading
//     anything or found while reading, Read returns ErrTooLarge and r.Body
//     yields the bytes already read followed by the unread rest. At most
//     limit+1 bytes are held.
//   - If reading fails (the client went away), Read returns that error and
//     r.Body yields the part read, then the same error.
//
// A nil body or http.NoBody is an empty body. A body an earlier Read
// replaced is not read again: the bytes it holds are reused.
func Read(r *http.Request, limit int64) ([]byte, error) { return read(r, limit, nil) }

// read is Read; the body it sets is room when room is set.
func read(r *http.Request, limit int64, room *replayBody) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	limit = max(limit, 0)
	var buf []byte
	src, closer := io.Reader(r.Body), io.Closer(r.Body)
	if rb, ok := r.Body.(*replayBody); ok && rb.off == 0 {
		if rb.rest == nil { // the body is all in rb.buf, or failed after it
			switch {
			case rb.err != nil:
				return nil, rb.err
			case int64(len(rb.buf)) > limit:
				return nil, ErrTooLarge
			}
			return rb.buf, nil
		}
		buf, src, closer = rb.buf, rb.rest, rb.closer // read on after the prefix
	} else if r.ContentLength > limit {
		return nil, ErrTooLarge // r.Body is untouched
	}

	most := limit // limit plus one byte of look-ahead that proves the body too large
	if most < math.MaxInt64 {
		most++
	}
	for {
		if int64(len(buf)) > limit {
			r.Body = replay(room, replayBody{buf: buf, rest: src, closer: closer})
			return nil, ErrTooLarge
		}
		if len(buf) == cap(buf) {
			buf = grow(buf, r.ContentLength, most)
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF && int64(len(buf)) > limit:
			r.Body = replay(room, replayBody{buf: buf, closer: closer})
			return nil, ErrTooLarge
		case err == io.EOF:
			r.Body = replay(room, replayBody{buf: buf, closer: closer})
			return buf[:len(buf):len(buf)], nil
		case err != nil:
			r.Body = replay(room, replayBody{buf: buf, err: err, closer: closer})
			return nil, err
		}
	}
}

// grow returns buf with more room, never more than most bytes in all. The
// first buffer fits an announced length plus the byte that reveals EOF, up to
// maxFirstRead.
func grow(buf []byte, contentLength, most int64) []byte {
	size := int64(2 * cap(buf))
	if cap(buf) == 0 {
		size = minRead
		if contentLength >= 0 {
			size = min(contentLength+1, maxFirstRead)
		}
	}
	size = max(min(size, most), int64(cap(buf))+1)
	next := make([]byte, len(buf), size)
	copy(next, buf)
	return next
}

// replay returns b in room, or in a new replayBody when room is nil.
func replay(room *replayBody, b replayBody) *replayBody {
	if room == nil {
		room = new(replayBody)
	}
	*room = b
	return room
}

// replayBody is a request body that yields buf, then rest when rest is not
// nil, else err (io.EOF when err is nil). Closing it closes the original body.
type replayBody struct {
	buf    []byte
	off    int
	rest   io.Reader
	err    error
	closer io.Closer
}

func (b *replayBody) Read(p []byte) (int, error) {
	if b.off < len(b.buf) {
		n := copy(p, b.buf[b.off:])
		b.off += n
		return n, nil
	}
	if b.rest != nil {
		return b.rest.Read(p)
	}
	if b.err != nil {
		return 0, b.err
	}
	return 0, io.EOF
}

func (b *replayBody) Close() error { return b.closer.Close() }

// replayAgain returns a fresh body of buf for r: closing it still closes the
// body the client sent, however many times r's body was replaced.
func replayAgain(r *http.Request, buf []byte) *replayBody {
	var closer io.Closer = http.NoBody
	switch b := r.Body.(type) {
	case *replayBody:
		closer = b.closer
	case nil:
	default:
		closer = b
	}
	return &replayBody{buf: buf, closer: closer}
}
