package fakeai

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const claudeBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"hello "},{"type":"text","text":"claude"}]}]}`

func TestAnthropicMessage(t *testing.T) {
	srv := Start(t)
	res, b := post(t, srv, "/v1/messages", claudeBody, map[string]string{"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"})
	var msg struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Role       string `json:"role"`
		Model      string `json:"model"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type, Text string
		} `json:"content"`
		Usage struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || msg.ID != "msg_fake_1" || msg.Type != "message" || msg.Role != "assistant" || msg.Model != "claude-sonnet-4-5" || msg.StopReason != "end_turn" {
		t.Fatalf("%d %+v", res.StatusCode, msg)
	}
	if len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text != "echo: hello claude #1" {
		t.Fatalf("content %+v", msg.Content)
	}
	if msg.Usage.InputTokens != tokens(len(claudeBody)) || msg.Usage.OutputTokens == 0 {
		t.Fatalf("usage %+v", msg.Usage)
	}
	if res.Header.Get("anthropic-ratelimit-requests-limit") == "" || res.Header.Get("request-id") != "req_fake_1" {
		t.Fatalf("headers %v", res.Header)
	}
}

// sseEvent is one parsed named event.
type sseEvent struct {
	name string
	data map[string]any
}

func readEvents(t *testing.T, res *http.Response) []sseEvent {
	t.Helper()
	var events []sseEvent
	var name string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var data map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &data); err != nil {
				t.Fatalf("event %s: %v", name, err)
			}
			if data["type"] != name {
				t.Fatalf("event %s carries type %v", name, data["type"])
			}
			events = append(events, sseEvent{name: name, data: data})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestAnthropicStream(t *testing.T) {
	srv := Start(t)
	tests := []struct {
		name      string
		headers   map[string]string
		chunks    int
		wantUsage bool
	}{
		{name: "default", chunks: defaultChunks, wantUsage: true},
		{name: "three chunks", headers: map[string]string{"x-fake-chunks": "3", "x-fake-usage": "10,20"}, chunks: 3, wantUsage: true},
		{name: "no usage", headers: map[string]string{"x-fake-no-usage": "1"}, chunks: defaultChunks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			res := do(t, srv, http.MethodPost, "/v1/messages", strings.Replace(claudeBody, `"max_tokens"`, `"stream":true,"max_tokens"`, 1), tt.headers)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("Content-Type %q", ct)
			}
			events := readEvents(t, res)
			var names []string
			var text strings.Builder
			for _, ev := range events {
				names = append(names, ev.name)
				if ev.name == "content_block_delta" {
					text.WriteString(ev.data["delta"].(map[string]any)["text"].(string))
				}
			}
			want := "message_start,content_block_start,ping," + strings.Repeat("content_block_delta,", tt.chunks) + "content_block_stop,message_delta,message_stop"
			if got := strings.Join(names, ","); got != want {
				t.Fatalf("events %s\nwant   %s", got, want)
			}
			if text.String() != "echo: hello claude #1" {
				t.Fatalf("text %q", text.String())
			}
			startUsage, hasStart := events[0].data["message"].(map[string]any)["usage"].(map[string]any)
			endUsage, hasEnd := events[len(events)-2].data["usage"].(map[string]any)
			if hasStart != tt.wantUsage || hasEnd != tt.wantUsage {
				t.Fatalf("usage present %v/%v, want %v", hasStart, hasEnd, tt.wantUsage)
			}
			if tt.headers["x-fake-usage"] == "10,20" && (startUsage["input_tokens"] != 10.0 || endUsage["output_tokens"] != 20.0) {
				t.Fatalf("usage %v %v", startUsage, endUsage)
			}
		})
	}
}

func TestAnthropicErrors(t *testing.T) {
	srv := Start(t)
	tests := []struct {
		status    string
		headers   map[string]string
		wantType  string
		wantInMsg string
		wantRetry string
	}{
		{status: "429", wantType: "rate_limit_error", wantRetry: "1"},
		{status: "429", headers: map[string]string{"x-fake-retry-after-ms": "2500"}, wantType: "rate_limit_error", wantRetry: "3"},
		{status: "401", headers: map[string]string{"x-fake-echo-key": "1", "x-api-key": "sk-ant-api03-secret"}, wantType: "authentication_error", wantInMsg: "sk-ant-api03-secret"},
		{status: "529", wantType: "overloaded_error"},
		{status: "500", wantType: "api_error"},
	}
	for _, tt := range tests {
		t.Run(tt.status+tt.wantRetry, func(t *testing.T) {
			h := map[string]string{"x-fake-status": tt.status}
			for k, v := range tt.headers {
				h[k] = v
			}
			res, b := post(t, srv, "/v1/messages", claudeBody, h)
			var got anthropicError
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if res.Status[:3] != tt.status || got.Type != "error" || got.Error.Type != tt.wantType || !strings.Contains(got.Error.Message, tt.wantInMsg) {
				t.Fatalf("%s %s", res.Status, b)
			}
			if res.Header.Get("retry-after") != tt.wantRetry {
				t.Fatalf("retry-after %q, want %q", res.Header.Get("retry-after"), tt.wantRetry)
			}
		})
	}
}
