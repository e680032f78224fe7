package llmgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// The reliability tests run against the in-process Caddy, so its
// goroutines, heap and stores are the test process's own: a leak shows up
// in runtime.NumGoroutine, a buffered body in the live heap.

// relIdle closes the idle keep-alive connections of the clients the tests
// use, so that their goroutines (and Caddy's for them) can end.
func relIdle() {
	http.DefaultClient.CloseIdleConnections()
	harness.Client.CloseIdleConnections()
}

// relGoroutines returns the number of goroutines once it has stopped
// changing: goroutines of an earlier config, still ending after a
// reload, are not counted as part of the baseline for long.
func relGoroutines() int {
	relIdle()
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(150 * time.Millisecond)
		relIdle()
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// relNoLeak waits for the goroutines to come back to base and fails the
// test, with the stacks of all goroutines, when they do not.
func relNoLeak(t *testing.T, base int) {
	t.Helper()
	n := 0
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		relIdle()
		if n = runtime.NumGoroutine(); n <= base || time.Now().After(deadline) {
			break
		}
	}
	if n > base {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("%d goroutines left behind (%d, baseline %d):\n%s", n-base, n, base, b.String())
	}
}

// relStore returns the entries and bytes of the in-process Caddy's memory
// store of maxSize. Each test gives its store a size of its own, so it
// sees only its entries.
func relStore(t *testing.T, maxSize int64) (entries, bytes int64) {
	t.Helper()
	return relStoreAt(t, testcaddy.AdminURL(), maxSize)
}

// relStoreAt is relStore for the Caddy whose admin API is at admin.
func relStoreAt(t *testing.T, admin string, maxSize int64) (entries, bytes int64) {
	t.Helper()
	resp, err := http.Get(admin + "/llm/cache/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats struct {
		Stores []struct {
			Backend string `json:"backend"`
			MaxSize int64  `json:"max_size"`
			Entries int64  `json:"entries"`
			Bytes   int64  `json:"bytes"`
		} `json:"stores"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	for _, s := range stats.Stores {
		if s.Backend == "memory" && s.MaxSize == maxSize {
			return s.Entries, s.Bytes
		}
	}
	t.Fatalf("no memory store of max_size %d among %+v", maxSize, stats.Stores)
	return 0, 0
}

// relName is a name unique to this run of a test, for zones and prompts:
// limiter and cache state outlive a config, as they should.
func relName(t *testing.T, prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, harness.FreePort(t), os.Getpid())
}

// relAnswer is what a client got: the status and headers (zero when no
// answer began), the body so far, and the error that ended it.
type relAnswer struct {
	status int
	header http.Header
	body   string
	err    error
}

// relDo sends a POST with header pairs and never fails the test: faults
// are what these tests provoke.
func relDo(url, body string, header ...string) relAnswer {
	return relDoCtx(context.Background(), url, body, header...)
}

// relDoCtx is relDo with a context, for clients that leave.
func relDoCtx(ctx context.Context, url, body string, header ...string) relAnswer {
	return relDoHeaded(ctx, nil, url, body, header...)
}

// relDoHeaded is relDoCtx that closes headed, when not nil, once the
// answer's header has come (or the request failed), before its body: for
// a stream, a sign the request has joined or begun its upstream call.
func relDoHeaded(ctx context.Context, headed chan<- struct{}, url, body string, header ...string) relAnswer {
	req, err := harness.NewPost(ctx, url, body, header...)
	if err != nil {
		return relAnswer{err: err}
	}
	resp, b, err := harness.Send(req, headed)
	if resp == nil {
		return relAnswer{err: err}
	}
	return relAnswer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}
