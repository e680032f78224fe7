package llmgate_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// Bodies of every size against handlers that read them to different
// limits (a model matcher, a cache, a token zone, in either order),
// sent at once or slowly: the upstream gets every byte, in order.
func TestBodyReachesUpstreamWhole(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{} // X-Id -> digest the upstream read
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		mu.Lock()
		got[r.Header.Get("X-Id")] = fmt.Sprintf("%x %v", sha256.Sum256(b), err)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)
	zone := relName(t, "body")
	for _, order := range []string{"llm_cache {\n max_body 1KiB\n }\n llm_ratelimit {\n zone " + zone + "a {\n key static\n tokens 1000000000/m\n }\n }",
		"llm_ratelimit {\n zone " + zone + "b {\n key static\n tokens 1000000000/m\n }\n }\n llm_cache {\n max_body 1KiB\n }"} {
		site := testcaddy.Site(t)
		testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n @gpt llm_model gpt-* {\n max_body 64KiB\n }\n route @gpt {\n %s\n }\n reverse_proxy %s\n}\n", site, order, up.URL))
		for _, n := range []int{100, 1024, 1025, 5000, 64 << 10, 64<<10 + 1, 1 << 20} {
			for _, slow := range []bool{false, true} {
				body := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("y", n) + fmt.Sprint(slow) + `"}]}`
				id := fmt.Sprintf("%d-%v-%d", n, slow, len(got))
				// A client that leaves halfway first: nothing of it is kept.
				abort(t, site, body)
				status := postRaw(t, site, id, body, slow)
				mu.Lock()
				g := got[id]
				mu.Unlock()
				if want := fmt.Sprintf("%x <nil>", sha256.Sum256([]byte(body))); status != 200 || g != want {
					t.Errorf("%q n=%d slow=%v: status %d, upstream read %q", order[:9], n, slow, status, g)
				}
			}
		}
	}
}

// postRaw posts body over a connection of its own, in pieces with pauses
// when slow, and returns the answer's status.
func postRaw(t *testing.T, site, id, body string, slow bool) int {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(site, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer sk-body\r\nX-Id: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", strings.TrimPrefix(site, "http://"), id, len(body))
	for rest := body; rest != ""; {
		k := len(rest)
		if slow {
			k = min(k, 700)
		}
		io.WriteString(c, rest[:k])
		rest = rest[k:]
		if slow && rest != "" && len(body) < 100000 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// abort sends half of body, announced whole, and leaves.
func abort(t *testing.T, site, body string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(site, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer sk-body\r\nX-Id: aborted\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", strings.TrimPrefix(site, "http://"), len(body), body[:len(body)/2])
	time.Sleep(5 * time.Millisecond)
	c.Close()
}
