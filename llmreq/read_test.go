package llmreq

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)}).Read(b)
	return b
}

// hideLen hides the length of a reader, so that net/http sends it chunked.
type hideLen struct{ io.Reader }

// served is what a handler saw of its request.
type served struct {
	read      []byte
	err       error
	untouched bool  // r.Body was not replaced
	held      int   // bytes the replacement body buffers
	cl        int64 // r.ContentLength after Read
	forwarded []byte
	fwdErr    error
}

// readServer starts a server whose handler calls Read with limit and then
// reads r.Body to the end, as a proxy forwarding it would.
func readServer(t *testing.T, limit int64) (*httptest.Server, chan served) {
	t.Helper()
	results := make(chan served, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orig := r.Body
		var s served
		s.read, s.err = Read(r, limit)
		s.untouched, s.cl = r.Body == orig, r.ContentLength
		if rb, ok := r.Body.(*replayBody); ok {
			s.held = len(rb.buf)
		}
		s.forwarded, s.fwdErr = io.ReadAll(r.Body)
		results <- s
	}))
	t.Cleanup(srv.Close)
	return srv, results
}

func TestReadOverHTTP(t *testing.T) {
	const limit = 1 << 20
	large, small := randomBytes(10<<20), randomBytes(1024)
	tests := []struct {
		name      string
		body      []byte
		chunked   bool
		tooLarge  bool
		untouched bool // the Content-Length shortcut: nothing read
		held      int
	}{
		{name: "small", body: small, held: len(small)},
		{name: "small chunked", body: small, chunked: true, held: len(small)},
		{name: "at limit chunked", body: large[:limit], chunked: true, held: limit},
		{name: "over limit chunked", body: large[:limit+1], chunked: true, tooLarge: true, held: limit + 1},
		{name: "large chunked", body: large, chunked: true, tooLarge: true, held: limit + 1},
		{name: "large with length", body: large, tooLarge: true, untouched: true},
	}
	srv, results := readServer(t, limit)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.chunked {
				body = hideLen{body}
			}
			resp, err := http.Post(srv.URL, "application/json", body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := <-results

			if tt.tooLarge {
				if s.err != ErrTooLarge || s.read != nil {
					t.Errorf("Read = %d bytes, %v; want ErrTooLarge", len(s.read), s.err)
				}
			} else if s.err != nil || !bytes.Equal(s.read, tt.body) {
				t.Errorf("Read = %d bytes, %v; want the %d bytes sent", len(s.read), s.err, len(tt.body))
			}
			if s.untouched != tt.untouched || (!tt.untouched && s.held != tt.held) {
				t.Errorf("r.Body untouched = %v holding %d bytes; want %v, %d", s.untouched, s.held, tt.untouched, tt.held)
			}
			if s.fwdErr != nil || sha256.Sum256(s.forwarded) != sha256.Sum256(tt.body) {
				t.Errorf("r.Body then gave %d bytes (%v), not the %d bytes sent", len(s.forwarded), s.fwdErr, len(tt.body))
			}
			wantCL := int64(len(tt.body))
			if tt.chunked {
				wantCL = -1
			}
			if s.cl != wantCL {
				t.Errorf("r.ContentLength = %d, want %d", s.cl, wantCL)
			}
		})
	}
}

func TestReadClientGoesAway(t *testing.T) {
	const sent = 1000
	part := strings.Repeat("x", sent)
	tests := []struct{ name, request string }{
		{"content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n" + part},
		{"chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n", sent) + part + "\r\n"},
	}
	srv, results := readServer(t, 20<<20)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			conn.Close()

			var s served
			select {
			case s = <-results:
			case <-time.After(30 * time.Second): // a guard against a hang, not a timing assertion
				t.Fatal("the handler never returned")
			}
			if s.err == nil || s.err == ErrTooLarge {
				t.Fatalf("Read error = %v, want the read failure", s.err)
			}
			if string(s.forwarded) != part || s.fwdErr != s.err {
				t.Errorf("r.Body gave %d bytes and %v; want the %d bytes read and %v", len(s.forwarded), s.fwdErr, sent, s.err)
			}
		})
	}
}

// countingBody is a request body that counts its reads and notes Close.
type countingBody struct {
	r      io.Reader
	reads  int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.reads++
	return b.r.Read(p)
}

func (b *countingBody) Close() error {
	b.closed = true
	return nil
}

func newRequest(body io.ReadCloser, contentLength int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	r.Body, r.ContentLength = body, contentLength
	return r
}

func TestReadEmpty(t *testing.T) {
	for _, body := range []io.ReadCloser{nil, http.NoBody} {
		r := newRequest(body, 0)
		got, err := Read(r, 10)
		if err != nil || got == nil || len(got) != 0 || r.Body != body {
			t.Errorf("Read(body %v) = %q, %v, body %v; want empty", body, got, err, r.Body)
		}
	}
}

func TestReadLimits(t *testing.T) {
	body := []byte("0123456789")
	tests := []struct {
		limit         int64
		contentLength int64
		tooLarge      bool
	}{
		{10, 10, false},
		{10, -1, false},
		{9, -1, true},
		{9, 10, true},
		{0, -1, true},
		{-5, -1, true},
		{8, 5, true}, // the length announced is wrong: found while reading
		{15, 5, false},
		{1 << 62, -1, false},
	}
	for _, tt := range tests {
		cb := &countingBody{r: bytes.NewReader(body)}
		r := newRequest(cb, tt.contentLength)
		got, err := Read(r, tt.limit)
		if tt.tooLarge != (err == ErrTooLarge) || (!tt.tooLarge && (err != nil || !bytes.Equal(got, body))) {
			t.Errorf("Read(limit %d, length %d) = %q, %v", tt.limit, tt.contentLength, got, err)
		}
		if rest, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(rest, body) {
			t.Errorf("Read(limit %d, length %d): body then gave %q, %v", tt.limit, tt.contentLength, rest, err)
		}
		if r.ContentLength != tt.contentLength {
			t.Errorf("Read(limit %d): ContentLength changed to %d", tt.limit, r.ContentLength)
		}
		if r.Body.Close(); !cb.closed {
			t.Errorf("Read(limit %d): closing the new body did not close the original", tt.limit)
		}
	}
}

func TestReadError(t *testing.T) {
	broken := errors.New("connection reset")
	r := newRequest(io.NopCloser(io.MultiReader(strings.NewReader("part"), iotest.ErrReader(broken))), -1)
	if got, err := Read(r, 100); err != broken || got != nil {
		t.Fatalf("Read = %q, %v; want %v", got, err, broken)
	}
	if got, err := io.ReadAll(r.Body); string(got) != "part" || err != broken {
		t.Errorf("body then gave %q, %v; want %q, %v", got, err, "part", broken)
	}
}

func TestReadAgain(t *testing.T) {
	body := randomBytes(5000)
	cb := &countingBody{r: bytes.NewReader(body)}
	r := newRequest(cb, -1)

	// Too large: the replacement body holds limit+1 bytes.
	if _, err := Read(r, 1000); err != ErrTooLarge {
		t.Fatalf("Read(1000) = %v, want ErrTooLarge", err)
	}
	// A smaller limit needs no reading at all.
	reads := cb.reads
	if _, err := Read(r, 500); err != ErrTooLarge || cb.reads != reads {
		t.Fatalf("Read(500) = %v after %d more reads, want ErrTooLarge and none", err, cb.reads-reads)
	}
	// A larger one reads on after what is held.
	got, err := Read(r, 1<<20)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Read(1 MiB) = %d bytes, %v", len(got), err)
	}
	// Reading the replaced body again copies and reads nothing.
	reads = cb.reads
	again, err := Read(r, 1<<20)
	if err != nil || &again[0] != &got[0] || cb.reads != reads {
		t.Fatalf("second Read = %d bytes, %v, %d reads; want the same slice", len(again), err, cb.reads-reads)
	}
	if _, err := Read(r, 4999); err != ErrTooLarge {
		t.Fatalf("Read(4999) = %v, want ErrTooLarge", err)
	}
	if rest, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(rest, body) {
		t.Fatalf("body then gave %d bytes, %v", len(rest), err)
	}
	if r.Body.Close(); !cb.closed {
		t.Error("closing the body did not close the original")
	}
}

// A retry sends the body again from its first byte, through SetBody: each
// call a reader of its own, and closing the last still closes the body
// the client sent. A nil Memo (a request without one) is no obstacle.
func TestSetBodySendsTheBodyAgain(t *testing.T) {
	cb := &countingBody{r: strings.NewReader(`{"model":"m"}`)}
	r := newRequest(cb, 13)
	body, err := Read(r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	first := r.Body
	if b, _ := io.ReadAll(first); string(b) != `{"model":"m"}` {
		t.Fatalf("first attempt read %q", b)
	}
	var none *Memo
	for range 2 {
		none.SetBody(r, body)
		if b, _ := io.ReadAll(r.Body); string(b) != `{"model":"m"}` || r.ContentLength != 13 {
			t.Fatalf("a resent body reads %q, length %d", b, r.ContentLength)
		}
	}
	// The first attempt's reader is its own: reading it again gives nothing
	// more, and the resent body is whole.
	none.SetBody(r, body)
	if n, _ := first.Read(make([]byte, 8)); n != 0 {
		t.Errorf("the first reader read %d more bytes", n)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != `{"model":"m"}` {
		t.Errorf("resent body after the old reader was read: %q", b)
	}
	if r.Body.Close(); !cb.closed {
		t.Error("closing the resent body did not close the client's")
	}
	if _, chained := r.Body.(*replayBody).closer.(*replayBody); chained {
		t.Error("the resent body closes an earlier resent body, not the client's")
	}
}
