package llmgate_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A caller that accepts gzip (Go's, Python's and most HTTP clients do by
// default) gets the upstream's answer compressed; its usage must still
// be charged, not only the reservation's estimate.
func TestTokensGzipJSONAnswerSettles(t *testing.T) {
	site, _ := tokenSite(t, "300/m", "")
	gzip := []string{"Accept-Encoding", "gzip", "x-fake-gzip", "1"}
	s1, _, _ := ask(t, site, "/v1/chat/completions", "one", false, "200,7", gzip...)
	s2, _, _ := ask(t, site, "/v1/chat/completions", "two", false, "200,7", gzip...)
	s3, _, _ := ask(t, site, "/v1/chat/completions", "three", false, "200,7", gzip...)
	if s1 != 200 || s2 != 200 || s3 != 429 {
		t.Fatalf("statuses %d %d %d after two gzipped answers of 207 tokens in a 300/m zone, want 200 200 429", s1, s2, s3)
	}
}

// TestTokensJSONAnswerLeftEarlyIsCharged: a caller reads the first MiB
// of a 32 MiB JSON answer (whose usage, at its end, says 500,010 tokens)
// and leaves. The upstream generated the whole answer before its first
// byte, so it cost at least what reached the client; leaving before the
// usage must not leave only the prompt's few tokens charged.
func TestTokensJSONAnswerLeftEarlyIsCharged(t *testing.T) {
	// Per hour: the refill between requests stays small (2,778 a second).
	site, _ := tokenSite(t, "10000000/h", "")
	probe := func() int {
		t.Helper()
		s, rem, body := ask(t, site, "/v1/chat/completions", fmt.Sprintf("probe %d", time.Now().UnixNano()), false, "1,1")
		if s != 200 {
			t.Fatalf("probe: %d %s", s, body)
		}
		return rem
	}
	before := probe()

	ctx, leave := context.WithCancel(context.Background())
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a long answer"}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-tokens")
	req.Header.Set("x-fake-usage", "10,500000")
	req.Header.Set("x-fake-size", fmt.Sprint(32<<20))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.CopyN(io.Discard, resp.Body, 1<<20); resp.StatusCode != 200 || err != nil {
		t.Fatalf("the answer: %d, %d bytes read, %v", resp.StatusCode, n, err)
	}
	leave()
	resp.Body.Close()

	// 1 MiB of the answer's text reached the client: some 262,000 tokens
	// at 4 bytes a token, and its usage says 500,010.
	var spent int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if spent = before - probe(); spent >= 200000 {
			return
		}
	}
	t.Fatalf("a 500,010-token JSON answer left after its first MiB cost %d tokens, want at least 200,000", spent)
}
