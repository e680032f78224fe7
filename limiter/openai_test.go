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

	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/usage"
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

// tokenAPI serves chat completions behind l's token accounting, as a
// gateway does: reserve the request's estimate, answer, settle the usage.
func tokenAPI(t *testing.T, l *Limiter) string {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := llmreq.Read(r, 1<<20)
		if err != nil {
			t.Error(err)
			return
		}
		req, _ := llmreq.Scan(body)
		tk, err := l.AdmitSpend(r.Context(), []string{r.Header.Get("Authorization")}, Spend{Tokens: usage.Estimate(req)})
		if err != nil {
			t.Error(err)
			return
		}
		if !tk.Allowed {
			tk.WriteRefusal(w, r, HeadersOpenAI)
			return
		}
		defer tk.Done()
		tk.SetHeaders(w.Header(), HeadersOpenAI)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatCompletion)
		if u, ok := usage.FromJSON([]byte(chatCompletion)); ok {
			_ = tk.Settle(r.Context(), Spend{Tokens: u.Total})
		}
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOpenAIClientReadsATokenRefusal(t *testing.T) {
	l := newLimiter(t, Zone{Name: "tph", Tokens: Rate{Count: 100, Per: time.Hour}})
	client := openai.NewClient(option.WithBaseURL(tokenAPI(t, l)+"/v1"), option.WithAPIKey("sk-test-key"), option.WithMaxRetries(0))
	ctx := context.Background()
	askFor := func(maxTokens int64) (*http.Response, error) {
		var res *http.Response
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:     openai.ChatModelGPT4oMini,
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("ping")},
			MaxTokens: openai.Int(maxTokens),
		}, option.WithResponseInto(&res))
		return res, err
	}
	// "gpt-4o-mini", "user", "ping": 19 bytes, 5 tokens; with max_tokens
	// 50 the request reserves 55, and is settled at its usage, 6.
	res, err := askFor(50)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Header.Get("X-Ratelimit-Remaining-Tokens"); got != "45" {
		t.Fatalf("remaining tokens at the answer %q, want 45", got)
	}
	// 94 tokens are left; 5 + 95 do not fit.
	_, err = askFor(95)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an API error", err)
	}
	if apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Type != "tokens" || apiErr.Code != "rate_limit_exceeded" {
		t.Fatalf("status %d type %q code %q", apiErr.StatusCode, apiErr.Type, apiErr.Code)
	}
	if got := apiErr.Response.Header.Get("X-Ratelimit-Limit-Tokens"); got != "100" {
		t.Fatalf("x-ratelimit-limit-tokens %q", got)
	}
	if _, err := askFor(89); err != nil {
		t.Fatalf("a request that fits: %v", err)
	}
}
