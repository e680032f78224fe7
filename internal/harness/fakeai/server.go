// Package fakeai is a fake OpenAI and Anthropic upstream for llmgate's tests,
// demo and benchmarks.
//
// It listens on a real socket and answers POST /v1/chat/completions,
// /v1/completions, /v1/embeddings, /v1/responses (OpenAI shapes) and
// /v1/messages (Anthropic shapes) with JSON or SSE streams close enough to the
// real APIs for the official SDKs to parse. Answers are deterministic except
// for the call number n (1-based, counted over all paths since the last
// Reset), which appears in ids and at the end of the text ("#n"), so a test
// can tell a fresh upstream answer from a cached one.
//
// Request headers steer the answer (see knobs.go): x-fake-status,
// x-fake-retry-after-ms, x-fake-usage, x-fake-no-usage, x-fake-delay,
// x-fake-chunks, x-fake-die-after, x-fake-gzip, x-fake-echo-key,
// x-fake-size and x-fake-model.
package fakeai

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// DefaultRecordLimit is how many requests a Server keeps for Requests before
// it drops the oldest, so a long benchmark cannot grow memory without bound.
const DefaultRecordLimit = 10000

// maxBody bounds the request body the fake reads; larger bodies get a 413.
const maxBody = 32 << 20

// Recorded is one request as the fake received it.
type Recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte // exact bytes received
}

// Server is a running fake upstream. All methods are safe for concurrent use.
type Server struct {
	ln      net.Listener
	srv     *http.Server
	handler http.Handler

	mu      sync.Mutex
	calls   int
	perPath map[string]int
	recs    []Recorded // ring buffer once len(recs) == limit
	oldest  int        // index of the oldest record when the ring is full
	limit   int
}

// New starts a Server on 127.0.0.1 with a free port; it is ready on return.
// Like httptest.NewServer it panics if the loopback socket cannot be opened,
// which only happens on a broken machine.
func New() *Server {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakeai: %v", err))
	}
	return s
}

// Start is New for a test: the server is closed when the test ends.
func Start(t testing.TB) *Server {
	s := New()
	t.Cleanup(s.Close)
	return s
}

// Listen starts a Server on addr (host:port); it is ready on return.
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{ln: ln, perPath: make(map[string]int), limit: DefaultRecordLimit}
	s.handler = http.HandlerFunc(s.serve)
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the base address, "http://127.0.0.1:PORT" (no trailing slash).
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server and closes every open connection, which also ends
// delayed answers and streams in progress.
func (s *Server) Close() { _ = s.srv.Close() }

// Handler is the fake's HTTP handler, for serving it from another server.
// Counters and records are shared with s.
func (s *Server) Handler() http.Handler { return s.handler }

// Calls is the number of requests answered or started since the last Reset,
// over all paths, including the ones that got an error.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsTo is the number of requests to path (for example
// "/v1/chat/completions") since the last Reset.
func (s *Server) CallsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perPath[path]
}

// Reset zeroes the counters (the next call is n = 1 again) and forgets the
// recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = 0
	clear(s.perPath)
	s.recs, s.oldest = nil, 0
}

// SetRecordLimit sets how many requests Requests keeps (the newest ones);
// 0 turns recording off. Negative values count as 0.
func (s *Server) SetRecordLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.ordered()
	n = max(n, 0)
	if len(recs) > n {
		recs = recs[len(recs)-n:]
	}
	s.recs, s.oldest, s.limit = recs, 0, n
}

// Requests returns copies of the recorded requests, oldest first.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	recs := s.ordered()
	s.mu.Unlock()
	out := make([]Recorded, len(recs))
	for i, r := range recs {
		r.Header = r.Header.Clone()
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// ordered returns the records oldest first in a new slice; s.mu must be held.
func (s *Server) ordered() []Recorded {
	out := make([]Recorded, 0, len(s.recs))
	out = append(out, s.recs[s.oldest:]...)
	return append(out, s.recs[:s.oldest]...)
}

// record counts the call and keeps a copy of the request; it returns the
// call number n.
func (s *Server) record(r *http.Request, body []byte) int {
	rec := Recorded{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     body,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.perPath[rec.Path]++
	switch {
	case s.limit == 0:
	case len(s.recs) < s.limit:
		s.recs = append(s.recs, rec)
	default:
		s.recs[s.oldest] = rec
		s.oldest = (s.oldest + 1) % s.limit
	}
	return s.calls
}

// routes maps each POST path to its answer.
var routes = map[string]func(*call){
	"/v1/chat/completions": (*call).chat,
	"/v1/completions":      (*call).completion,
	"/v1/embeddings":       (*call).embeddings,
	"/v1/responses":        (*call).responses,
	"/v1/messages":         (*call).messages,
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	c := &call{
		w:         w,
		r:         r,
		rc:        http.NewResponseController(w),
		n:         s.record(r, body),
		body:      body,
		anthropic: r.URL.Path == "/v1/messages",
		k:         defaultKnobs(),
	}
	route, known := routes[r.URL.Path]
	c.rateLimitHeaders()
	switch {
	case !known:
		c.fail(http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		return
	case r.Method != http.MethodPost:
		c.fail(http.StatusMethodNotAllowed, fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path))
		return
	case readErr != nil:
		c.fail(http.StatusBadRequest, "Could not read the request body: "+readErr.Error())
		return
	case len(body) > maxBody:
		c.fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes.", maxBody))
		return
	}
	k, err := parseKnobs(r.Header)
	if err != nil {
		c.fail(http.StatusBadRequest, "fakeai: "+err.Error())
		return
	}
	c.k = k
	if k.status != 0 {
		c.forcedError()
		return
	}
	if !c.parse() {
		return
	}
	route(c)
}
