package llmgate_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// tap sits between Caddy and the fake upstream: it holds an answer back at
// its n-th body write until released (0: never), and reports when each
// upstream call has returned.
type tap struct {
	up      *fakeai.Server
	holdAt  int
	release chan struct{}
	ended   chan struct{}
	srv     *httptest.Server
}

func newTap(t *testing.T, up *fakeai.Server, holdAt int) *tap {
	tp := &tap{up: up, holdAt: holdAt, release: make(chan struct{}), ended: make(chan struct{}, 100)}
	tp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { tp.ended <- struct{}{} }()
		up.Handler().ServeHTTP(&heldWriter{ResponseWriter: w, tap: tp, ctx: r.Context()}, r)
	}))
	t.Cleanup(tp.srv.Close)
	return tp
}

// heldWriter is the fake upstream's writer under a tap.
type heldWriter struct {
	http.ResponseWriter
	tap    *tap
	ctx    context.Context
	writes int
}

func (w *heldWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes == w.tap.holdAt {
		select {
		case <-w.tap.release:
		case <-w.ctx.Done():
			return 0, w.ctx.Err()
		}
	}
	return w.ResponseWriter.Write(p)
}

func (w *heldWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// streamSite loads a Caddy site with llm_cache in front of upstream.
func streamSite(t *testing.T, upstream string) string {
	t.Helper()
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_cache\n\treverse_proxy %s\n}\n", site, upstream))
	return site
}

// streamChat reads a whole chat completion stream through the SDK and
// returns its content.
func streamChat(ctx context.Context, c openai.Client, params openai.ChatCompletionNewParams, opts ...option.RequestOption) (string, error) {
	s := c.Chat.Completions.NewStreaming(ctx, params, opts...)
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		for _, ch := range s.Current().Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String(), s.Err()
}

func TestCacheStreamSDKRepeatIsHit(t *testing.T) {
	site, up := cacheSite(t, "")
	key := "sk-test-alice-" + site
	c := sdk(site, key, option.WithMaxRetries(0))
	params := chat("gpt-4o-mini", "stream me")
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	ctx := context.Background()

	var first, second *http.Response
	a, err := streamChat(ctx, c, params, option.WithResponseInto(&first))
	if err != nil {
		t.Fatal(err)
	}
	b, err := streamChat(ctx, c, params, option.WithResponseInto(&second))
	if err != nil {
		t.Fatal(err)
	}
	if a == "" || a != b || !strings.HasSuffix(a, "#1") {
		t.Fatalf("contents %q and %q", a, b)
	}
	if got := first.Header.Get("Cache-Status"); got != "llmgate; fwd=miss" {
		t.Errorf("miss Cache-Status %q", got)
	}
	if got := second.Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit; ttl=") || second.Header.Get("Age") == "" {
		t.Errorf("hit Cache-Status %q, Age %q", got, second.Header.Get("Age"))
	}
	if ct := second.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("hit Content-Type %q", ct)
	}
	// The same request, sent raw: the stored events end with [DONE].
	resp, raw := post(t, site+"/v1/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream me"}]}`,
		"Authorization", "Bearer "+key)
	if !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") || !strings.HasSuffix(raw, "data: [DONE]\n\n") {
		t.Fatalf("raw replay: Cache-Status %q, ends %q", resp.Header.Get("Cache-Status"), raw[max(0, len(raw)-40):])
	}
	if !strings.Contains(raw, `"usage":{"prompt_tokens"`) {
		t.Error("the replay lost the usage event")
	}
	if got := up.CallsTo("/v1/chat/completions"); got != 1 {
		t.Fatalf("upstream calls %d, want 1", got)
	}
}

func TestCacheStreamAbortedNotStored(t *testing.T) {
	up := fakeai.Start(t)
	tp := newTap(t, up, 0)
	site := streamSite(t, tp.srv.URL)
	c := sdk(site, "sk-test-"+site, option.WithMaxRetries(0))
	params := chat("gpt-4o-mini", "abort me")

	ctx, cancel := context.WithCancel(context.Background())
	s := c.Chat.Completions.NewStreaming(ctx, params, option.WithHeader("x-fake-delay", "100ms"), option.WithHeader("x-fake-chunks", "50"))
	if !s.Next() {
		t.Fatalf("no first event: %v", s.Err())
	}
	cancel()
	s.Close()
	<-tp.ended // the upstream call ended with its only client gone

	got, err := streamChat(context.Background(), c, params)
	if err != nil || !strings.HasSuffix(got, "#2") {
		t.Fatalf("after the abort: %q, %v", got, err)
	}
	if n := up.CallsTo("/v1/chat/completions"); n != 2 {
		t.Fatalf("upstream calls %d, want 2: an aborted stream was stored", n)
	}
}

func TestCacheStreamUpstreamDiesNotStored(t *testing.T) {
	site, up := cacheSite(t, "")
	const body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"die"}]}`
	req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test-"+req.URL.Host)
	req.Header.Set("x-fake-die-after", "3")
	resp, err := harness.Client.Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("a cut stream reached the client as complete")
	}
	resp, answer := post(t, site+"/v1/chat/completions", body)
	if resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" || !strings.HasSuffix(answer, "data: [DONE]\n\n") {
		t.Fatalf("after the cut: Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	if n := up.CallsTo("/v1/chat/completions"); n != 2 {
		t.Fatalf("upstream calls %d, want 2", n)
	}
}

func TestCacheStreamAnthropic(t *testing.T) {
	site, up := cacheSite(t, "")
	const body = `{"model":"claude-sonnet-4-5","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"hello"}]}`
	hdr := []string{"Authorization", "", "X-Api-Key", "sk-ant-test-" + site, "anthropic-version", "2023-06-01"}
	resp, first := post(t, site+"/v1/messages", body, hdr...)
	if resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" || !strings.HasSuffix(first, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") {
		t.Fatalf("miss: Cache-Status %q, body %q", resp.Header.Get("Cache-Status"), first)
	}
	resp, again := post(t, site+"/v1/messages", body, hdr...)
	if !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") || again != first {
		t.Fatalf("replay: Cache-Status %q, same bytes %v", resp.Header.Get("Cache-Status"), again == first)
	}
	if n := up.CallsTo("/v1/messages"); n != 1 {
		t.Fatalf("upstream calls %d, want 1", n)
	}
}

func TestCacheStreamResponsesAPI(t *testing.T) {
	site, up := cacheSite(t, "")
	c := sdk(site, "sk-test-"+site, option.WithMaxRetries(0))
	params := responses.ResponseNewParams{
		Model: "gpt-4o-mini",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("stream responses")},
	}
	read := func() (text string, completed bool, status string) {
		var resp *http.Response
		s := c.Responses.NewStreaming(context.Background(), params, option.WithResponseInto(&resp))
		defer s.Close()
		for s.Next() {
			switch ev := s.Current(); ev.Type {
			case "response.output_text.delta":
				text += ev.Delta
			case "response.completed":
				completed = true
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		return text, completed, resp.Header.Get("Cache-Status")
	}
	a, doneA, statusA := read()
	b, doneB, statusB := read()
	if a == "" || a != b || !doneA || !doneB {
		t.Fatalf("texts %q %q, completed %v %v", a, b, doneA, doneB)
	}
	if statusA != "llmgate; fwd=miss" || !strings.HasPrefix(statusB, "llmgate; hit") {
		t.Fatalf("Cache-Status %q then %q", statusA, statusB)
	}
	if n := up.CallsTo("/v1/responses"); n != 1 {
		t.Fatalf("upstream calls %d, want 1", n)
	}
}

// TestCacheCoalesceJSON: 50 identical requests at once make one upstream
// call, and all get its answer. The upstream holds its answer until every
// follower's body has been read by the cache (100 Continue), so they are
// in flight together.
func TestCacheCoalesceJSON(t *testing.T) {
	const n = 50
	up := fakeai.Start(t)
	tp := newTap(t, up, 1)
	site := streamSite(t, tp.srv.URL)
	const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"together"}]}`
	// A client that waits for 100 Continue before it sends a body.
	waiting := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	t.Cleanup(waiting.CloseIdleConnections)
	type answer struct {
		status, cacheStatus, body string
		header                    http.Header
	}
	answers := make(chan answer, n)
	var read sync.WaitGroup
	ask := func(expect bool) {
		req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test-"+req.URL.Host)
		if expect {
			req.Header.Set("Expect", "100-continue")
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				Got100Continue: read.Done,
			}))
		}
		resp, err := waiting.Do(req)
		if err != nil {
			t.Error(err)
			answers <- answer{}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Error(err)
		}
		answers <- answer{resp.Status, resp.Header.Get("Cache-Status"), string(b), resp.Header}
	}
	go ask(false)
	for up.CallsTo("/v1/chat/completions") == 0 {
		time.Sleep(time.Millisecond)
	}
	read.Add(n - 1)
	for range n - 1 {
		go ask(true)
	}
	read.Wait()
	close(tp.release)

	var first string
	statuses := map[string]int{}
	for range n {
		a := <-answers
		if a.status != "200 OK" || !strings.Contains(a.body, "#1") {
			t.Fatalf("answer %q: %.100s", a.status, a.body)
		}
		if first != "" && a.body != first {
			t.Fatalf("answers differ:\n%s\n%s", a.body, first)
		}
		first = a.body
		checkFollowerHeader(t, a.cacheStatus, a.header)
		switch s := a.cacheStatus; {
		case strings.HasPrefix(s, "llmgate; hit"):
			statuses["hit"]++ // came after the answer was stored
		default:
			statuses[s]++
		}
	}
	if got := up.CallsTo("/v1/chat/completions"); got != 1 {
		t.Fatalf("upstream calls %d, want 1", got)
	}
	collapsed := statuses["llmgate; fwd=miss; collapsed"]
	if statuses["llmgate; fwd=miss"] != 1 || collapsed == 0 || collapsed+statuses["hit"] != n-1 {
		t.Fatalf("Cache-Status counts %v", statuses)
	}
}

// TestCacheCoalesceStream: 50 identical streams at once make one upstream
// call. The upstream holds its second event back until every follower has
// received the first: followers get the events live, not after the end.
func TestCacheCoalesceStream(t *testing.T) {
	const n = 50
	up := fakeai.Start(t)
	tp := newTap(t, up, 2)
	site := streamSite(t, tp.srv.URL)
	c := sdk(site, "sk-test-"+site, option.WithMaxRetries(0))
	params := chat("gpt-4o-mini", "stream together")

	type result struct {
		content, cacheStatus string
		header               http.Header
		err                  error
	}
	results := make(chan result, n)
	var firstEvent sync.WaitGroup
	firstEvent.Add(n)
	start := func() {
		var resp *http.Response
		s := c.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&resp))
		defer s.Close()
		var b strings.Builder
		for i := 0; s.Next(); i++ {
			for _, ch := range s.Current().Choices {
				b.WriteString(ch.Delta.Content)
			}
			if i == 0 {
				firstEvent.Done()
			}
		}
		status, header := "", http.Header{}
		if resp != nil {
			status, header = resp.Header.Get("Cache-Status"), resp.Header
		}
		results <- result{b.String(), status, header, s.Err()}
	}
	go start()
	for up.CallsTo("/v1/chat/completions") == 0 {
		time.Sleep(time.Millisecond)
	}
	for range n - 1 {
		go start()
	}
	// Every client has its first event while the upstream still holds
	// the rest back.
	firstEvent.Wait()
	if up.CallsTo("/v1/chat/completions") != 1 {
		t.Fatalf("upstream calls %d before the stream went on", up.CallsTo("/v1/chat/completions"))
	}
	close(tp.release)

	statuses := map[string]int{}
	var first string
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if !strings.HasSuffix(r.content, "#1") || first != "" && r.content != first {
			t.Fatalf("content %q, first %q", r.content, first)
		}
		first = r.content
		checkFollowerHeader(t, r.cacheStatus, r.header)
		statuses[r.cacheStatus]++
	}
	if statuses["llmgate; fwd=miss"] != 1 || statuses["llmgate; fwd=miss; collapsed"] != n-1 {
		t.Fatalf("Cache-Status counts %v", statuses)
	}
	if got := up.CallsTo("/v1/chat/completions"); got != 1 {
		t.Fatalf("upstream calls %d, want 1", got)
	}
}

// checkFollowerHeader checks that an answer shared from another request's
// upstream call carries what a hit carries, and none of the upstream's own
// headers (its cookies, organisation, request id), which are the leader's;
// the leader gets them.
func checkFollowerHeader(t *testing.T, cacheStatus string, h http.Header) {
	t.Helper()
	if h.Get("Content-Type") == "" {
		t.Errorf("%s: no Content-Type", cacheStatus)
	}
	own := []string{"Set-Cookie", "Openai-Organization", "X-Request-Id"}
	for _, k := range own {
		got := h.Get(k)
		switch {
		case strings.Contains(cacheStatus, "collapsed") && got != "":
			t.Errorf("%s: the follower got the leader's %s: %q", cacheStatus, k, got)
		case strings.HasPrefix(cacheStatus, "llmgate; fwd=") && !strings.Contains(cacheStatus, "collapsed") && got == "":
			t.Errorf("%s: the leader lost its %s", cacheStatus, k)
		}
	}
}
