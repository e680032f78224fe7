package llmgate_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestReliabilityClientDisconnect has clients leave at every stage of a
// request: while uploading the body, while waiting for the upstream's
// answer, in the middle of a stream, as one of several requests sharing a
// coalesced call, and while queued in a leaky bucket. After each, every
// goroutine the request started has ended, nothing partial was stored, and
// what the request held (a concurrency slot, a place in the queue) is free
// again: the next request is admitted.
func TestReliabilityClientDisconnect(t *testing.T) {
	up := fakeai.Start(t)
	site, queued, waiting := testcaddy.Site(t), testcaddy.Site(t), testcaddy.Site(t)
	const maxSize = 64<<20 + 202
	slots, queue, waitSlot := relName(t, "slots"), relName(t, "queue"), relName(t, "wait")
	// keepalive off: the upstream connections close with their request,
	// so that a goroutine left over is a leak, not an idle connection.
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`
%s {
	llm_ratelimit {
		zone %s {
			match header X-Slot 1
			key static
			concurrency 1
		}
	}
	llm_cache {
		max_size %d
	}
	reverse_proxy %s {
		transport http {
			keepalive off
		}
	}
}
%s {
	llm_ratelimit {
		zone %s {
			key {http.request.header.X-Queue}
			requests 1/30s
			burst 10
			algorithm leaky_bucket
			max_wait 60s
		}
	}
	reverse_proxy %s {
		transport http {
			keepalive off
		}
	}
}
%s {
	llm_ratelimit {
		zone %s {
			key static
			concurrency 1
			max_wait 30s
		}
	}
	reverse_proxy %s {
		transport http {
			keepalive off
		}
	}
}
`, site, slots, maxSize, up.URL(), queued, queue, up.URL(), waiting, waitSlot, up.URL()))
	cred := "Bearer sk-test-leave-" + site
	prompt := func(name string, stream bool) string {
		return fmt.Sprintf(`{"model":"m","stream":%v,"messages":[{"role":"user","content":"leave %s at %s"}]}`, stream, name, site)
	}
	// The slot is free when a request that needs it is admitted at once
	// (without max_wait a busy slot refuses at once). The client's cancel
	// reaches the handler asynchronously, so this polls.
	slotFree := func(t *testing.T) {
		t.Helper()
		harness.Eventually(t, "the concurrency slot to be free", func() bool {
			a := relDo(site+"/v1/chat/completions", prompt("slot probe", false), "Authorization", cred, "X-Slot", "1", "Cache-Control", "no-store")
			return a.err == nil && a.status == 200
		})
	}
	// Warm up, so lazily started goroutines belong to the baseline.
	relDo(site+"/v1/chat/completions", prompt("warm", false), "Authorization", cred, "Cache-Control", "no-store")
	relDo(queued+"/v1/chat/completions", prompt("warm", false), "Authorization", cred)

	t.Run("uploading the body", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			length, at int // Content-Length announced, bytes sent before leaving
		}{
			{name: "small body", length: 5000, at: 1000},
			{name: "body over max_body", length: 3 << 20, at: 3 << 19},
		} {
			t.Run(tc.name, func(t *testing.T) {
				base := relGoroutines()
				entries, _ := relStore(t, maxSize)
				calls := up.Calls()
				conn, err := net.Dial("tcp", strings.TrimPrefix(site, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				head := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nX-Slot: 1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
					strings.TrimPrefix(site, "http://"), cred, tc.length)
				part := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("a", tc.at)
				if _, err := conn.Write([]byte(head + part[:tc.at])); err != nil {
					t.Fatal(err)
				}
				conn.Close()
				relNoLeak(t, base)
				if n, _ := relStore(t, maxSize); n != entries {
					t.Errorf("entries %d → %d: a cut upload was stored", entries, n)
				}
				slotFree(t)
				t.Logf("upstream calls during the cut upload: %d", up.Calls()-calls-1)
			})
		}
	})

	t.Run("waiting for the answer", func(t *testing.T) {
		base := relGoroutines()
		entries, _ := relStore(t, maxSize)
		calls := up.Calls()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan relAnswer)
		go func() {
			done <- relDoCtx(ctx, site+"/v1/chat/completions", prompt("waiting", false), "Authorization", cred, "X-Slot", "1", "x-fake-delay", "10s")
		}()
		harness.Eventually(t, "the upstream to get the call", func() bool { return up.Calls() > calls })
		cancel()
		if a := <-done; a.err == nil {
			t.Fatalf("the cancelled request got %d", a.status)
		}
		relNoLeak(t, base)
		if n, _ := relStore(t, maxSize); n != entries {
			t.Errorf("entries %d → %d", entries, n)
		}
		slotFree(t)
	})

	t.Run("mid-stream", func(t *testing.T) {
		base := relGoroutines()
		entries, _ := relStore(t, maxSize)
		body := prompt("stream", true)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
		for k, v := range map[string]string{"Authorization": cred, "X-Slot": "1", "x-fake-chunks": "100", "x-fake-delay": "50ms"} {
			req.Header.Set(k, v)
		}
		resp, err := harness.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "data: ") {
			t.Fatalf("first event %q, %v", line, err)
		}
		cancel()
		resp.Body.Close()
		relNoLeak(t, base)
		if n, _ := relStore(t, maxSize); n != entries {
			t.Errorf("entries %d → %d: a stream the client left was stored", entries, n)
		}
		slotFree(t)
		calls := up.Calls()
		again := relDo(site+"/v1/chat/completions", body, "Authorization", cred)
		if again.header.Get("Cache-Status") != "llmgate; fwd=miss" || up.Calls() != calls+1 || !strings.HasSuffix(again.body, "data: [DONE]\n\n") {
			t.Fatalf("after the abort: Cache-Status %q, calls %d → %d", again.header.Get("Cache-Status"), calls, up.Calls())
		}
	})

	t.Run("coalesced requests leaving", func(t *testing.T) {
		// Four identical requests share one slow upstream call; the
		// leader's client and two followers leave. The last follower
		// still gets the whole answer, which is stored.
		base := relGoroutines()
		entries, _ := relStore(t, maxSize)
		body := prompt("coalesced", true)
		calls := up.Calls()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		header := []string{"Authorization", cred, "x-fake-chunks", "20", "x-fake-delay", "50ms"}
		wg.Go(func() { relDoCtx(ctx, site+"/v1/chat/completions", body, header...) })
		harness.Eventually(t, "the leader's upstream call", func() bool { return up.Calls() > calls })
		// A follower of a stream gets the header once it has joined: the
		// clients leave only when all three have. (Were the one that
		// stays not in yet, the call would lose its last listener and
		// end, and that one make a call of its own.)
		var joined [3]chan struct{}
		for i := range joined {
			joined[i] = make(chan struct{})
		}
		for _, headed := range joined[:2] {
			wg.Go(func() { relDoHeaded(ctx, headed, site+"/v1/chat/completions", body, header...) })
		}
		stayed := make(chan relAnswer, 1)
		go func() {
			stayed <- relDoHeaded(context.Background(), joined[2], site+"/v1/chat/completions", body, header...)
		}()
		for _, headed := range joined {
			<-headed
		}
		cancel()
		wg.Wait()
		a := <-stayed
		if a.err != nil || a.status != 200 || !strings.HasSuffix(a.body, "data: [DONE]\n\n") {
			t.Fatalf("the follower that stayed got %d %v, ends %q", a.status, a.err, a.body[max(0, len(a.body)-30):])
		}
		if got := up.Calls() - calls; got != 1 {
			t.Errorf("upstream calls %d, want 1 shared by all four", got)
		}
		relNoLeak(t, base)
		if n, _ := relStore(t, maxSize); n <= entries {
			t.Errorf("entries %d → %d, want the whole stream stored", entries, n)
		}
		if again := relDo(site+"/v1/chat/completions", body, "Authorization", cred); !strings.HasPrefix(again.header.Get("Cache-Status"), "llmgate; hit") || again.body != a.body {
			t.Errorf("the stream asked again: Cache-Status %q, the same events %v", again.header.Get("Cache-Status"), again.body == a.body)
		}
	})

	t.Run("waiting for a concurrency slot", func(t *testing.T) {
		// One request holds the only slot; a second waits for it (up to
		// max_wait) and its client leaves. When the slot frees, the next
		// request must get it, not the one whose client is gone.
		base := relGoroutines()
		url := waiting + "/v1/chat/completions"
		body := prompt("slot wait", false)
		header := []string{"Authorization", cred}
		calls := up.Calls()
		holdCtx, release := context.WithCancel(context.Background())
		held := make(chan relAnswer, 1)
		go func() { held <- relDoCtx(holdCtx, url, body, append(header, "x-fake-delay", "20s")...) }()
		harness.Eventually(t, "the slot to be held", func() bool { return up.Calls() == calls+1 })
		waitCtx, leave := context.WithCancel(context.Background())
		waited := make(chan relAnswer, 1)
		go func() { waited <- relDoCtx(waitCtx, url, body, header...) }()
		// The waiter is in (it cannot be observed from outside; a
		// fraction of a second is plenty).
		time.Sleep(300 * time.Millisecond)
		leave()
		<-waited
		release()
		<-held
		if a := relDo(url, body, header...); a.status != 200 {
			t.Fatalf("the next request: %d %v", a.status, a.err)
		}
		if got := up.Calls() - calls; got != 2 {
			t.Errorf("upstream calls %d, want 2 (the holder and the next request): a request whose client "+
				"left while waiting for a slot took the slot and was sent upstream", got)
		}
		relNoLeak(t, base)
	})

	t.Run("queued in a leaky bucket", func(t *testing.T) {
		// 1 request per 30 s, at most 60 s of queue: one passes, two wait
		// (30 s and 60 s), the next is refused at once. The steps below
		// take far less than 30 s, so no waiting request reaches its turn.
		for _, tc := range []struct {
			name string
			body string
		}{
			// A bodiless POST, which the upstream refuses with 400, shows
			// the queue itself gives places back.
			{name: "no body"},
			// What clients send: a JSON body nobody has read yet.
			{name: "JSON body", body: prompt("queue", false)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				base := relGoroutines()
				depth := func() float64 { return testcaddy.Metrics(t)[`llmgate_ratelimit_queue_depth{zone="`+queue+`"}`] }
				url := queued + "/v1/chat/completions"
				header := []string{"Authorization", cred, "X-Queue", tc.name}
				calls := up.Calls()
				if a := relDo(url, tc.body, header...); a.err != nil || a.status == http.StatusTooManyRequests {
					t.Fatalf("first request: %d %v", a.status, a.err)
				}
				type waiter struct {
					cancel context.CancelFunc
					done   chan relAnswer
				}
				var waiters []waiter
				t.Cleanup(func() {
					for _, w := range waiters {
						w.cancel()
					}
				})
				// enqueue sends a request and waits until the queue holds n.
				enqueue := func(n float64) waiter {
					ctx, cancel := context.WithCancel(context.Background())
					w := waiter{cancel, make(chan relAnswer, 1)}
					waiters = append(waiters, w)
					go func() { w.done <- relDoCtx(ctx, url, tc.body, header...) }()
					harness.Eventually(t, fmt.Sprintf("%v requests queued", n), func() bool { return depth() == n })
					select {
					case a := <-w.done:
						t.Fatalf("a request that should wait was answered %d", a.status)
					default:
					}
					return w
				}
				// leave has a waiting client go away; its request must
				// leave the queue at once (well before its turn).
				leave := func(w waiter) {
					before := depth()
					w.cancel()
					if a := <-w.done; a.err == nil {
						t.Fatalf("a request that left the queue got %d", a.status)
					}
					for deadline := time.Now().Add(5 * time.Second); depth() >= before; time.Sleep(20 * time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatalf("queue depth stayed %v for 5s after a waiting client left: its request keeps "+
								"its place until its turn, then goes to the upstream for nobody", before)
						}
					}
				}
				refused := func(when string) {
					t.Helper()
					if a := relDo(url, tc.body, header...); a.status != http.StatusTooManyRequests {
						t.Fatalf("%s: a request into the full queue got %d, want 429", when, a.status)
					}
				}
				b := enqueue(1)
				enqueue(2)
				refused("two waiting")
				// One leaves: its place is free for a new request, and
				// only one.
				leave(b)
				enqueue(2)
				refused("the freed place taken")
				for _, w := range waiters[1:] {
					leave(w)
				}
				// Every place given back: two may wait again, the third is
				// refused.
				waiters = waiters[:0]
				enqueue(1)
				enqueue(2)
				refused("after the queue emptied")
				for _, w := range waiters {
					leave(w)
				}
				if got := up.Calls() - calls; got != 1 {
					t.Errorf("upstream calls %d, want 1: requests that left the queue must not reach it", got)
				}
				relNoLeak(t, base)
			})
		}
	})
}
