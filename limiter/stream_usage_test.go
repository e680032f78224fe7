package limiter

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/chain"
)

// A token zone asks a stream for its usage by sending the handlers after
// it a new body. The handlers before it keep the request they hold, as
// the client sent it: one that sends it again (a retry) sends the
// client's body, with the client's length.
func TestStreamUsageLeavesTheCallersRequest(t *testing.T) {
	l, err := New([]Zone{tokenZone(TokenBucket)}, Options{StreamUsage: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	const sent = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(sent))
	r.Header.Set("Content-Length", strconv.Itoa(len(sent)))
	var next string
	err = l.Serve(httptest.NewRecorder(), r, []string{"k"}, HeadersOpenAI, chain.Plain{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		next = string(b)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(next, `"include_usage":true`) {
		t.Fatalf("the handler after got %s, not asking for the usage", next)
	}
	if r.ContentLength != int64(len(sent)) || r.Header.Get("Content-Length") != strconv.Itoa(len(sent)) {
		t.Errorf("the caller's request now says %d bytes, header %q; the client sent %d", r.ContentLength, r.Header.Get("Content-Length"), len(sent))
	}
	if b, _ := io.ReadAll(r.Body); len(b) > 0 && string(b) != sent {
		t.Errorf("the caller's request body reads %s", b)
	}
}
