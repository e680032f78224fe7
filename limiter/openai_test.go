package limiter

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const chatCompletion = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`

// fakeOpenAI serves chat completions behind l and counts the refusals it
// sent.
func fakeOpenAI(t *testing.T, l *Limiter) (url string, refused *atomic.Int32) {
	refused = &atomic.Int32{}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatCompletion)
	})
	limited := l.Middleware(byAuthorization(len(l.zones)), HeadersOpenAI)(api)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		limited.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			refused.Add(1)
		}
	})
	srv := httptest.NewServer(counted)
	t.Cleanup(srv.Close)
	return srv.URL, refused
}

// statusRecorder remembers the status an answer was sent with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func ask(ctx context.Context, client openai.Client) (*openai.ChatCompletion, error) {
	return client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    openai.ChatModelGPT4oMini,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("ping")},
	})
}

func TestOpenAIClientRetriesThroughTheLimit(t *testing.T) {
	t.Parallel() // slow: runs beside the others
	l := newLimiter(t, Zone{Name: "per_key", Requests: Rate{Count: 2, Per: time.Second}, Burst: 2})
	url, refused := fakeOpenAI(t, l)
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey("sk-test-key"))
	ctx := context.Background()
	for i := range 6 {
		res, err := ask(ctx, client)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if res.Choices[0].Message.Content != "pong" {
			t.Fatalf("request %d: answer %q", i+1, res.Choices[0].Message.Content)
		}
	}
	// Six requests at 2/s with a burst of 2 must have met the limit; the
	// client waited as told and retried.
	if refused.Load() == 0 {
		t.Fatal("no request was refused: the limit was not exercised")
	}
}

func TestOpenAIClientReadsTheRefusal(t *testing.T) {
	l := newLimiter(t, Zone{Name: "per_key", Requests: Rate{Count: 1, Per: time.Hour}})
	url, _ := fakeOpenAI(t, l)
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey("sk-test-key"), option.WithMaxRetries(0))
	ctx := context.Background()
	if _, err := ask(ctx, client); err != nil {
		t.Fatal(err)
	}
	_, err := ask(ctx, client)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an API error", err)
	}
	if apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Code != "rate_limit_exceeded" || apiErr.Type != "requests" {
		t.Fatalf("status %d code %q type %q", apiErr.StatusCode, apiErr.Code, apiErr.Type)
	}
	if want := "llmgate: zone per_key: 1 request per 1h0m0s, retry in 1h0m0s"; apiErr.Message != want {
		t.Fatalf("message %q, want %q", apiErr.Message, want)
	}
}
