package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/units"
)

// waitFollowers waits until a flight of c has n followers.
func waitFollowers(t *testing.T, c *Cache, n int) {
	t.Helper()
	harness.Eventually(t, fmt.Sprintf("%d followers", n), func() bool { return mostFollowers(c) >= n })
}

// mostFollowers returns the most followers a flight of c has.
func mostFollowers(c *Cache) int {
	c.flights.mu.Lock()
	defer c.flights.mu.Unlock()
	most := 0
	for _, f := range c.flights.m {
		f.mu.Lock()
		most = max(most, len(f.followers))
		f.mu.Unlock()
	}
	return most
}

// waitNoFlight waits until c has no flight in progress: the last one has
// stored its answer.
func waitNoFlight(t *testing.T, c *Cache) {
	t.Helper()
	harness.Eventually(t, "the flight to end", func() bool {
		c.flights.mu.Lock()
		defer c.flights.mu.Unlock()
		return len(c.flights.m) == 0
	})
}

// jsonUpstream answers JSON once release is closed, and counts its calls.
type jsonUpstream struct {
	release chan struct{}
	status  int
	calls   atomic.Int32
}

func (u *jsonUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := u.calls.Add(1)
	select {
	case <-u.release:
	case <-r.Context().Done():
		return
	}
	body := fmt.Sprintf(`{"id":"chatcmpl-%d","choices":[{"message":{"content":"%s"}}]}`, n, strings.Repeat("x", 100))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(u.status)
	io.WriteString(w, body)
}

// startCoalesced runs get n times: once, until its upstream call is under
// way, then n-1 times more, and waits for those to follow the first.
func startCoalesced(t *testing.T, c *Cache, up *jsonUpstream, n int, get func()) {
	t.Helper()
	go get()
	harness.Eventually(t, "the leader's upstream call", func() bool { return up.calls.Load() > 0 })
	for range n - 1 {
		go get()
	}
	waitFollowers(t, c, n-1)
}

const jsonBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

func TestCoalesceJSON(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		max    int64
		calls  int
		leader string
		follow string
		// reports counts the final results reported
		reports map[Result]int
	}{
		{name: "ok", status: 200, calls: 1,
			leader: "llmgate; fwd=miss", follow: "llmgate; fwd=miss; collapsed",
			reports: map[Result]int{{Outcome: Miss, Stored: true, Done: true}: 1, {Outcome: Coalesced, Done: true}: 4}},
		{name: "upstream error is shared", status: 503, calls: 1,
			leader: "llmgate; fwd=miss; fwd-status=503", follow: "llmgate; fwd=miss; fwd-status=503; collapsed",
			reports: map[Result]int{{Outcome: Miss, Done: true}: 1, {Outcome: Coalesced, Done: true}: 4}},
		{name: "too large to share: followers go alone", status: 200, max: 50, calls: 5,
			leader: "llmgate; fwd=miss", follow: "llmgate; fwd=miss",
			reports: map[Result]int{{Outcome: Miss, Done: true}: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 5
			up := &jsonUpstream{release: make(chan struct{}), status: tc.status}
			var mu sync.Mutex
			reports := map[Result]int{}
			report := func(_ *http.Request, res Result) {
				if res.Done {
					mu.Lock()
					reports[res]++
					mu.Unlock()
				}
			}
			srv, c := serve(t, Config{MaxResponse: units.Size(tc.max), Report: report}, up)
			type answer struct {
				resp *http.Response
				body string
			}
			answers := make(chan answer, n)
			get := func() {
				resp, body, err := fetch(t, srv.URL, jsonBody)
				if err != nil {
					t.Error(err)
				}
				answers <- answer{resp, body}
			}
			startCoalesced(t, c, up, n, get)
			close(up.release)
			var first string
			statuses := map[string]int{}
			for range n {
				a := <-answers
				if a.resp.StatusCode != tc.status || a.resp.Header.Get("Retry-After") != "1" {
					t.Fatalf("status %d, headers %v", a.resp.StatusCode, a.resp.Header)
				}
				statuses[a.resp.Header.Get("Cache-Status")]++
				if tc.calls == 1 && first != "" && a.body != first {
					t.Fatalf("answers differ:\n%s\n%s", a.body, first)
				}
				first = a.body
			}
			if got := int(up.calls.Load()); got != tc.calls {
				t.Fatalf("upstream calls %d, want %d", got, tc.calls)
			}
			if tc.calls == 1 && (statuses[tc.leader] != 1 || statuses[tc.follow] != n-1) {
				t.Fatalf("Cache-Status counts %v", statuses)
			}
			if tc.calls > 1 && statuses[tc.leader] != n {
				t.Fatalf("Cache-Status counts %v", statuses)
			}
			srv.Close() // waits for every Serve to return and report
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(reports) != fmt.Sprint(tc.reports) {
				t.Fatalf("reported %v, want %v", reports, tc.reports)
			}
		})
	}
}

// TestCoalesceStreamLive: followers get the events so far at once and the
// rest as the upstream sends them, not after its end; the leader's client
// leaving does not end the call for them, and the answer is stored.
func TestCoalesceStreamLive(t *testing.T) {
	const n = 4
	events := chatEvents(5)
	step := make(chan struct{})
	up := newUpstream(events...)
	up.before = func(r *http.Request, i int) bool {
		if i > 1 {
			<-step
		}
		return true
	}
	srv, c := serve(t, Config{}, up)

	leaderCtx, leave := context.WithCancel(context.Background())
	leader := send(t, leaderCtx, srv.URL, streamBody)
	lr := &eventReader{body: leader.Body}
	for i := range 2 {
		if got, err := lr.next(); err != nil || got != events[i] {
			t.Fatalf("leader event %d: %q %v", i, got, err)
		}
	}
	readers := make([]*eventReader, n)
	for i := range readers {
		resp := send(t, context.Background(), srv.URL, streamBody)
		defer resp.Body.Close()
		// The upstream's own headers are the leader's: a follower gets
		// what a hit gets.
		if cs := resp.Header.Get("Cache-Status"); cs != "llmgate; fwd=miss; collapsed" || resp.Header.Get("X-Upstream") != "" ||
			resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
			t.Fatalf("follower headers %v", resp.Header)
		}
		readers[i] = &eventReader{body: resp.Body}
		// Joining late, a follower gets the events sent so far.
		for j := range 2 {
			if got, err := readers[i].next(); err != nil || got != events[j] {
				t.Fatalf("follower %d event %d: %q %v", i, j, got, err)
			}
		}
	}
	// The leader's client goes; the call goes on for the followers.
	leave()
	leader.Body.Close()
	for i := 2; i < len(events); i++ {
		step <- struct{}{}
		for k, r := range readers {
			if got, err := r.next(); err != nil || got != events[i] {
				t.Fatalf("follower %d event %d: %q %v", k, i, got, err)
			}
		}
	}
	for k, r := range readers {
		if got, err := r.next(); err != io.EOF {
			t.Fatalf("follower %d after the end: %q %v", k, got, err)
		}
	}
	<-up.ended
	waitNoFlight(t, c)
	resp, body, err := fetch(t, srv.URL, streamBody)
	if err != nil || body != strings.Join(events, "") || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Fatalf("after: %v, Cache-Status %q", err, resp.Header.Get("Cache-Status"))
	}
	if up.calls.Load() != 1 {
		t.Fatalf("upstream calls %d", up.calls.Load())
	}
}

// TestCoalesceStreamCut: when the shared stream breaks off, every follower
// sees its answer broken off too, never a clean end, and none hangs.
func TestCoalesceStreamCut(t *testing.T) {
	const n = 3
	events := chatEvents(3)
	step := make(chan struct{})
	up := newUpstream(events...)
	up.before = func(r *http.Request, i int) bool {
		if i == 1 {
			<-step
			return false
		}
		return true
	}
	srv, c := serve(t, Config{}, up)
	errs := make(chan error, n)
	for range n {
		go func() {
			_, _, err := fetch(t, srv.URL, streamBody)
			errs <- err
		}()
	}
	waitFollowers(t, c, n-1)
	close(step)
	for range n {
		if err := <-errs; err == nil {
			t.Fatal("a client got a cut stream as complete")
		}
	}
	if _, _, err := fetch(t, srv.URL, streamBody); err == nil || up.calls.Load() != 2 {
		t.Fatalf("after the cut: calls %d, err %v", up.calls.Load(), err)
	}
}

// TestCoalesceNobodyListens: when every client is gone, the upstream call
// ends.
func TestCoalesceNobodyListens(t *testing.T) {
	const n = 3
	up := newUpstream(chatEvents(2)...)
	var cancelled atomic.Bool
	up.before = func(r *http.Request, i int) bool {
		if i == 0 {
			return true
		}
		<-r.Context().Done()
		cancelled.Store(true)
		return false
	}
	srv, c := serve(t, Config{}, up)
	var cancels []context.CancelFunc
	var wg sync.WaitGroup
	for i := range n {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		resp := send(t, ctx, srv.URL, streamBody)
		if _, err := (&eventReader{body: resp.Body}).next(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			<-ctx.Done()
			resp.Body.Close()
		})
		if i == 0 {
			continue
		}
		waitFollowers(t, c, i)
	}
	for i, cancel := range cancels {
		cancel()
		if i < n-1 && cancelled.Load() {
			t.Fatal("the upstream call ended while clients listened")
		}
	}
	wg.Wait()
	<-up.ended
	if !cancelled.Load() {
		t.Fatal("the upstream call went on with no client")
	}
}

// TestCoalesceLeaderError: an error of the next handler before any answer
// reaches every follower, as it reached the leader.
func TestCoalesceLeaderError(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	release := make(chan struct{})
	var calls atomic.Int32
	boom := errors.New("dial failed")
	next := nextFunc(func(w http.ResponseWriter, r *http.Request) error {
		calls.Add(1)
		<-release
		return boom
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Serve(w, r, next); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	const n = 4
	got := make(chan string, n)
	for range n {
		go func() {
			resp, body, err := fetch(t, srv.URL, jsonBody)
			if err != nil {
				t.Error(err)
			}
			got <- fmt.Sprint(resp.StatusCode, " ", strings.TrimSpace(body))
		}()
	}
	waitFollowers(t, c, n-1)
	close(release)
	for range n {
		if s := <-got; s != "502 dial failed" {
			t.Fatalf("answer %q", s)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("next called %d times", calls.Load())
	}
}

// TestCoalesceFollowerLeaves: a follower whose client goes away returns at
// once, and the others go on.
func TestCoalesceFollowerLeaves(t *testing.T) {
	up := &jsonUpstream{release: make(chan struct{}), status: 200}
	srv, c := serve(t, Config{}, up)
	done := make(chan string, 1)
	go func() {
		_, body, _ := fetch(t, srv.URL, jsonBody)
		done <- body
	}()
	harness.Eventually(t, "the leader's upstream call", func() bool { return up.calls.Load() > 0 })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := harness.NewPost(ctx, srv.URL+"/v1/chat/completions", jsonBody, "Authorization", "Bearer sk-test")
		_, err := harness.Client.Do(req)
		errc <- err
	}()
	waitFollowers(t, c, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("follower: %v", err)
	}
	close(up.release)
	if body := <-done; !strings.Contains(body, "chatcmpl-1") {
		t.Fatalf("leader got %q", body)
	}
}

type nextFunc func(http.ResponseWriter, *http.Request) error

func (f nextFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error { return f(w, r) }

// TestFlightWindow: past max, a flight keeps only what its followers have
// not sent, and cuts off a follower that lags further.
func TestFlightWindow(t *testing.T) {
	f := newFlight(10, true)
	f.start(200, nil, true, true, -1)
	fast, slow := f.join(), f.join()
	f.append([]byte("0123456789"), true)
	fast.pos = 8
	slow.pos = 2
	f.append([]byte("ab"), true) // 2 over: slow has sent them
	if f.base != 2 || string(f.buf) != "23456789ab" || slow.lost || fast.lost {
		t.Fatalf("base %d buf %q lost %v %v", f.base, f.buf, slow.lost, fast.lost)
	}
	f.append([]byte("cdef"), true) // 4 over: slow lags
	if !slow.lost || fast.lost || f.base != 8 || string(f.buf) != "89abcdef" || len(f.followers) != 1 {
		t.Fatalf("base %d buf %q lost %v %v", f.base, f.buf, slow.lost, fast.lost)
	}
	if f.join() != nil {
		t.Fatal("joined a flight that dropped bytes")
	}
	if f.listeners != 2 {
		t.Fatalf("listeners %d, want the leader and fast", f.listeners)
	}
}

// rewriter rewrites every header value in place as the answer starts, as
// Caddy's header handler does with a replacement on a response header.
type rewriter struct{ http.ResponseWriter }

func (w rewriter) WriteHeader(code int) {
	for _, vs := range w.Header() {
		for i := range vs {
			vs[i] += "+"
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// TestCoalescedAnswersOwnTheirHeaders: a handler that rewrites a header's
// values in place, around the cache, changes the answer of its own client
// only, not the leader's or another follower's.
func TestCoalescedAnswersOwnTheirHeaders(t *testing.T) {
	const n = 4
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	up := &jsonUpstream{release: make(chan struct{}), status: http.StatusOK}
	cached := c.Middleware(up)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cached.ServeHTTP(rewriter{w}, r)
	}))
	t.Cleanup(srv.Close)
	got := make(chan string, n)
	get := func() {
		resp, _, err := fetch(t, srv.URL, jsonBody)
		if err != nil {
			t.Error(err)
		}
		got <- resp.Header.Get("Retry-After")
	}
	startCoalesced(t, c, up, n, get)
	close(up.release)
	for range n {
		if v := <-got; v != "1+" {
			t.Errorf("Retry-After %q, want 1+: an answer saw another's rewrite", v)
		}
	}
}
