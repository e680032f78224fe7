// Package harness holds what the tests of every llmgate package share:
// loopback ports, waiting for a condition, and requests sent the way
// clients send them. Its subpackages run the real parts tests talk to: a
// fake upstream (fakeai), Caddy (testcaddy) and redis-server (testredis).
package harness

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a loopback port that was free a moment ago. Another
// listener may be given it meanwhile; a test that needs an address where
// connections are refused uses testcaddy.DeadAddr.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := PickPort()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return port
}

// PickPort is FreePort for programs that are not tests, such as the demo.
func PickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Eventually polls cond until it holds, failing the test with what after
// ten seconds: servers and clients settle (recover, free a slot, drain a
// queue) in their own time, and a fixed sleep would either waste it or
// fall short on a busy machine.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Client is the HTTP client of requests tests send: its timeout ends a
// request that hangs with a failure rather than a stuck test.
var Client = &http.Client{Timeout: 30 * time.Second, Transport: connections}

// connections are Client's connections: a transport NewConnections
// replaces.
var connections = newSwappable()

// swappable is a RoundTripper whose transport can be replaced while
// requests run.
type swappable struct {
	cur atomic.Pointer[http.Transport]
	// swapped is when NewConnections last ran, in Unix nanoseconds.
	swapped atomic.Int64
}

func newSwappable() *swappable {
	s := &swappable{}
	s.cur.Store(http.DefaultTransport.(*http.Transport).Clone())
	return s
}

// RoundTrip sends r once more, on a new connection, when it got no answer
// but an EOF or a reset within a second of a config reload: Caddy's old and new
// servers share the listening socket, and a connection the replaced
// server took as it stopped is closed unanswered. An API client retries
// such a connection error too; any other failure is the test's.
func (s *swappable) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.cur.Load().RoundTrip(r)
	if err == nil || !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) || r.GetBody == nil ||
		time.Since(time.Unix(0, s.swapped.Load())) > time.Second {
		return resp, err
	}
	body, berr := r.GetBody()
	if berr != nil {
		return resp, err
	}
	again := r.Clone(r.Context())
	again.Body = body
	return s.cur.Load().RoundTrip(again)
}

// CloseIdleConnections closes the idle connections of the transport in
// use, for http.Client.CloseIdleConnections.
func (s *swappable) CloseIdleConnections() { s.cur.Load().CloseIdleConnections() }

// NewConnections makes Client's later requests go on new connections
// only: after a config reload, a keep-alive connection the replaced
// server accepted may still be open, or be handed back to the pool just
// after a CloseIdleConnections, and a request sent on it is answered by
// the old config, or fails with EOF. Requests in flight finish on theirs.
func NewConnections() {
	old := connections.cur.Swap(http.DefaultTransport.(*http.Transport).Clone())
	connections.swapped.Store(time.Now().UnixNano())
	old.CloseIdleConnections()
}

// NewRequest returns a request of body to url, as an API client sends
// one: with Content-Type application/json, then the header pairs
// ("Name", "value", …) in order. "Host" sets the request's host; a name's
// first value replaces the header (Content-Type among them), a name given
// again is sent with every value given, and an empty value is sent empty.
func NewRequest(ctx context.Context, method, url, body string, header ...string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	given := map[string]bool{}
	for i := 0; i+1 < len(header); i += 2 {
		name, value := http.CanonicalHeaderKey(header[i]), header[i+1]
		switch {
		case name == "Host":
			req.Host = value
		case given[name]:
			req.Header.Add(name, value)
		default:
			req.Header.Set(name, value)
		}
		given[name] = true
	}
	return req, nil
}

// NewPost is NewRequest of a POST.
func NewPost(ctx context.Context, url, body string, header ...string) (*http.Request, error) {
	return NewRequest(ctx, http.MethodPost, url, body, header...)
}

// Send sends req through Client and returns the answer, with its body read
// and closed, what of the body arrived, and the error that ended the
// exchange; the answer is nil when none began. It never fails the test:
// faults are what some tests provoke. headed, when not nil, is closed once
// the answer's header has come (or the request failed), before the body
// is read: for a stream, a sign that the request has reached the server.
func Send(req *http.Request, headed chan<- struct{}) (*http.Response, string, error) {
	resp, err := Client.Do(req)
	if headed != nil {
		close(headed)
	}
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// Post sends NewPost's request and returns its answer and whole body,
// failing the test when the request cannot be made or its answer cannot
// be read to the end.
func Post(t testing.TB, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := NewPost(context.Background(), url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	resp, b, err := Send(req, nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp, b
}

// Clock is a clock that moves only when told, for stores and limiters
// whose decisions a test must predict exactly. Its zero value reads a
// fixed time in 2023. It takes no lock, so it adds no contention of its
// own to tests that hammer a store.
type Clock struct {
	elapsed atomic.Int64
}

// clockEpoch is where every Clock starts: a Unix time, like Redis's clock.
var clockEpoch = time.Unix(1_700_000_000, 0)

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return clockEpoch.Add(time.Duration(c.elapsed.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.elapsed.Add(int64(d)) }

// ReportPercentiles reports the median and 99th percentile of the
// latencies lat, in µs, as metrics of b: a store's tail, which the mean
// hides.
func ReportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
