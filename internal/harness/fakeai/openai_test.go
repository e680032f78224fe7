package fakeai

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// newClient is the official SDK pointed at srv, without retries unless opts
// say otherwise.
func newClient(srv *Server, opts ...option.RequestOption) openai.Client {
	base := []option.RequestOption{
		option.WithBaseURL(srv.URL() + "/v1/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0),
	}
	return openai.NewClient(append(base, opts...)...)
}

func chatParams(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage(text)},
	}
}

func TestSDKChat(t *testing.T) {
	srv := Start(t)
	tests := []struct {
		name        string
		opts        []option.RequestOption
		wantContent string
		wantUsage   [2]int64 // prompt, completion; zero prompt means "derived from the body"
	}{
		{name: "plain", wantContent: "echo: hello there #1", wantUsage: [2]int64{0, 5}},
		{name: "usage knob", opts: []option.RequestOption{option.WithHeader("x-fake-usage", "11,22")}, wantContent: "echo: hello there #2", wantUsage: [2]int64{11, 22}},
		{name: "gzip", opts: []option.RequestOption{option.WithHeader("x-fake-gzip", "1")}, wantContent: "echo: hello there #3", wantUsage: [2]int64{0, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newClient(srv, tt.opts...)
			got, err := client.Chat.Completions.New(context.Background(), chatParams("hello there"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Choices[0].Message.Content != tt.wantContent || got.Choices[0].FinishReason != "stop" {
				t.Fatalf("content %q finish %q, want %q stop", got.Choices[0].Message.Content, got.Choices[0].FinishReason, tt.wantContent)
			}
			if got.Model != "gpt-4o-mini" || !strings.HasPrefix(got.ID, "chatcmpl-fake-") {
				t.Fatalf("model %q id %q", got.Model, got.ID)
			}
			u := got.Usage
			wantPrompt := tt.wantUsage[0]
			if wantPrompt == 0 {
				reqs := srv.Requests()
				wantPrompt = int64(tokens(len(reqs[len(reqs)-1].Body)))
			}
			if u.PromptTokens != wantPrompt || u.CompletionTokens != tt.wantUsage[1] || u.TotalTokens != wantPrompt+tt.wantUsage[1] {
				t.Fatalf("usage %+v, want prompt %d completion %d", u, wantPrompt, tt.wantUsage[1])
			}
		})
	}
}

func TestSDKChatStream(t *testing.T) {
	srv := Start(t)
	tests := []struct {
		name         string
		includeUsage bool
		headers      map[string]string
		wantChunks   int // content chunks, the role chunk and the finish chunk, plus a usage chunk
		wantUsage    bool
	}{
		{name: "with usage", includeUsage: true, wantChunks: 5 + 2 + 1, wantUsage: true},
		{name: "without usage", wantChunks: 5 + 2},
		{name: "no-usage knob", includeUsage: true, headers: map[string]string{"x-fake-no-usage": "1"}, wantChunks: 5 + 2},
		{name: "twelve chunks gzip", includeUsage: true, headers: map[string]string{"x-fake-chunks": "12", "x-fake-gzip": "1"}, wantChunks: 12 + 2 + 1, wantUsage: true},
		{name: "usage knob", includeUsage: true, headers: map[string]string{"x-fake-usage": "7,9"}, wantChunks: 5 + 2 + 1, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			var opts []option.RequestOption
			for k, v := range tt.headers {
				opts = append(opts, option.WithHeader(k, v))
			}
			client := newClient(srv, opts...)
			params := chatParams("stream me please")
			if tt.includeUsage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			stream := client.Chat.Completions.NewStreaming(context.Background(), params)
			var acc openai.ChatCompletionAccumulator
			chunks := 0
			for stream.Next() {
				chunks++
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("accumulator rejected chunk %d: %s", chunks, stream.Current().RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if chunks != tt.wantChunks {
				t.Fatalf("%d chunks, want %d", chunks, tt.wantChunks)
			}
			if got := acc.Choices[0].Message.Content; got != "echo: stream me please #1" {
				t.Fatalf("content %q", got)
			}
			if acc.Choices[0].FinishReason != "stop" || acc.ID != "chatcmpl-fake-1" {
				t.Fatalf("finish %q id %q", acc.Choices[0].FinishReason, acc.ID)
			}
			u := acc.Usage
			switch {
			case !tt.wantUsage && u.TotalTokens != 0:
				t.Fatalf("unexpected usage %+v", u)
			case tt.wantUsage && tt.headers["x-fake-usage"] == "7,9" && (u.PromptTokens != 7 || u.CompletionTokens != 9 || u.TotalTokens != 16):
				t.Fatalf("usage %+v, want 7+9", u)
			case tt.wantUsage && (u.PromptTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens):
				t.Fatalf("usage %+v", u)
			}
		})
	}
}

func TestSDKCompletion(t *testing.T) {
	srv := Start(t)
	client := newClient(srv)
	params := openai.CompletionNewParams{
		Model:  "gpt-3.5-turbo-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("say this")},
	}
	got, err := client.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if got.Choices[0].Text != "echo: say this #1" || got.Usage.TotalTokens == 0 {
		t.Fatalf("got %q usage %+v", got.Choices[0].Text, got.Usage)
	}
	stream := client.Completions.NewStreaming(context.Background(), params)
	var b strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			b.WriteString(c.Choices[0].Text)
		}
	}
	if err := stream.Err(); err != nil || b.String() != "echo: say this #2" {
		t.Fatalf("stream %q, err %v", b.String(), err)
	}
}

func TestSDKEmbeddings(t *testing.T) {
	srv := Start(t)
	client := newClient(srv)
	tests := []struct {
		name     string
		params   openai.EmbeddingNewParams
		wantData int
		wantDims int
	}{
		{name: "one string", params: openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("a")}}, wantData: 1, wantDims: defaultDims},
		{name: "strings", params: openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b", "c"}}}, wantData: 3, wantDims: defaultDims},
		{name: "dimensions base64", params: openai.EmbeddingNewParams{Model: "text-embedding-3-small", Dimensions: openai.Int(16), EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64, Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("a")}}, wantData: 1, wantDims: 16},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.Embeddings.New(context.Background(), tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Data) != tt.wantData || got.Usage.PromptTokens == 0 || got.Usage.TotalTokens != got.Usage.PromptTokens {
				t.Fatalf("data %d usage %+v", len(got.Data), got.Usage)
			}
			vec := got.Data[0].Embedding
			if len(vec) != tt.wantDims || vec[len(vec)-1] != float64(i+1) {
				t.Fatalf("vector %v: want %d values ending with call number %d", vec, tt.wantDims, i+1)
			}
		})
	}
}

func TestSDKResponses(t *testing.T) {
	srv := Start(t)
	client := newClient(srv)
	params := responses.ResponseNewParams{
		Model: "gpt-4.1-mini",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("tell me")},
	}
	got, err := client.Responses.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if got.OutputText() != "echo: tell me #1" || got.Status != "completed" || got.ID != "resp_fake_1" {
		t.Fatalf("text %q status %q id %q", got.OutputText(), got.Status, got.ID)
	}
	if u := got.Usage; u.InputTokens == 0 || u.OutputTokens == 0 || u.TotalTokens != u.InputTokens+u.OutputTokens {
		t.Fatalf("usage %+v", u)
	}

	stream := client.Responses.NewStreaming(context.Background(), params, option.WithHeader("x-fake-usage", "3,4"))
	var types []string
	var deltas strings.Builder
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.Delta)
		case "response.completed":
			final = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if types[0] != "response.created" || types[len(types)-1] != "response.completed" || len(types) != 8+defaultChunks {
		t.Fatalf("event types %v", types)
	}
	if deltas.String() != "echo: tell me #2" || final.OutputText() != deltas.String() {
		t.Fatalf("deltas %q final %q", deltas.String(), final.OutputText())
	}
	if u := final.Usage; u.InputTokens != 3 || u.OutputTokens != 4 || u.TotalTokens != 7 {
		t.Fatalf("usage %+v", u)
	}
}

func TestSDKErrors(t *testing.T) {
	srv := Start(t)
	tests := []struct {
		name      string
		retries   int
		headers   map[string]string
		wantCalls int
		wantCode  int
		wantType  string
		wantInMsg string
	}{
		{name: "429 retried once", retries: 1, headers: map[string]string{"x-fake-status": "429", "x-fake-retry-after-ms": "10"}, wantCalls: 2, wantCode: 429, wantType: "requests", wantInMsg: "Please try again in 10ms"},
		{name: "500 retried twice", retries: 2, headers: map[string]string{"x-fake-status": "500", "x-fake-retry-after-ms": "0"}, wantCalls: 3, wantCode: 500, wantType: "server_error"},
		{name: "503 not retried", headers: map[string]string{"x-fake-status": "503"}, wantCalls: 1, wantCode: 503, wantType: "server_error", wantInMsg: "overloaded"},
		{name: "400 not retried", retries: 2, headers: map[string]string{"x-fake-status": "400"}, wantCalls: 1, wantCode: 400, wantType: "invalid_request_error"},
		{name: "401 echoes key", headers: map[string]string{"x-fake-status": "401", "x-fake-echo-key": "1"}, wantCalls: 1, wantCode: 401, wantType: "invalid_request_error", wantInMsg: "Incorrect API key provided: sk-test."},
		{name: "bad knob", headers: map[string]string{"x-fake-delay": "soon"}, wantCalls: 1, wantCode: 400, wantType: "invalid_request_error", wantInMsg: "x-fake-delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			opts := []option.RequestOption{option.WithMaxRetries(tt.retries)}
			for k, v := range tt.headers {
				opts = append(opts, option.WithHeader(k, v))
			}
			client := newClient(srv, opts...)
			_, err := client.Chat.Completions.New(context.Background(), chatParams("x"))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *openai.Error", err, err)
			}
			if apiErr.StatusCode != tt.wantCode || apiErr.Type != tt.wantType || !strings.Contains(apiErr.Message, tt.wantInMsg) {
				t.Fatalf("got %d %q %q", apiErr.StatusCode, apiErr.Type, apiErr.Message)
			}
			if got := srv.CallsTo("/v1/chat/completions"); got != tt.wantCalls {
				t.Fatalf("%d calls, want %d", got, tt.wantCalls)
			}
			for i, r := range srv.Requests() { // the SDK numbers its attempts
				if got := r.Header.Get("X-Stainless-Retry-Count"); got != fmt.Sprint(i) {
					t.Fatalf("attempt %d has X-Stainless-Retry-Count %q", i, got)
				}
			}
		})
	}
}

func TestSDKDieAfter(t *testing.T) {
	srv := Start(t)
	client := newClient(srv)
	tests := []struct {
		name      string
		dieAfter  string
		gzip      bool
		wantCount int
	}{
		{name: "mid stream", dieAfter: "3", wantCount: 3},
		{name: "mid stream gzip", dieAfter: "3", gzip: true, wantCount: 3},
		{name: "before any event", dieAfter: "0", wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []option.RequestOption{option.WithHeader("x-fake-die-after", tt.dieAfter)}
			if tt.gzip {
				opts = append(opts, option.WithHeader("x-fake-gzip", "1"))
			}
			stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams("x"), opts...)
			n := 0
			for stream.Next() {
				n++
			}
			if stream.Err() == nil || n != tt.wantCount {
				t.Fatalf("%d events, err %v; want %d and an error", n, stream.Err(), tt.wantCount)
			}
		})
	}
	_, err := client.Chat.Completions.New(context.Background(), chatParams("x"), option.WithHeader("x-fake-die-after", "1"))
	if err == nil {
		t.Fatal("JSON answer cut in half parsed without error")
	}
}

func TestSDKDelayHonoursCancel(t *testing.T) {
	srv := Start(t)
	client := newClient(srv)
	delay := option.WithHeader("x-fake-delay", "1h")
	tests := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{name: "json", run: func(ctx context.Context) error {
			_, err := client.Chat.Completions.New(ctx, chatParams("x"), delay)
			return err
		}},
		{name: "stream", run: func(ctx context.Context) error {
			stream := client.Chat.Completions.NewStreaming(ctx, chatParams("x"), delay)
			for stream.Next() {
			}
			return stream.Err()
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Cancelled once the call is at the server, however long it
			// took to get there: a fixed deadline could end it before.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				for srv.Calls() < i+1 && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			if err := tt.run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want canceled", err)
			}
			if srv.Calls() != i+1 {
				t.Fatalf("%d calls, want %d", srv.Calls(), i+1)
			}
		})
	}
}
