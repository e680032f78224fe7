package fakeai

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// do sends a request to srv's path with headers, as the tables give
// them, and returns the answer, its body unread and closed when the test
// ends.
func do(t *testing.T, srv *Server, method, path, body string, headers map[string]string) *http.Response {
	t.Helper()
	var pairs []string
	for k, v := range headers {
		pairs = append(pairs, k, v)
	}
	req, err := harness.NewRequest(context.Background(), method, srv.URL()+path, body, pairs...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// post sends body to srv's path with headers and returns the answer, body read.
func post(t *testing.T, srv *Server, path, body string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	res := do(t, srv, http.MethodPost, path, body, headers)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestRecordsExactBytes(t *testing.T) {
	srv := Start(t)
	bodies := []string{
		`{"model":"m","messages":[{"role":"user","content":"a"}]}`,
		"{ \"model\" : \"m\",\n\t\"messages\": [] , \"x\": \"\\u00e9 é\" }\n",
		`not json at all`,
	}
	for _, b := range bodies {
		post(t, srv, "/v1/chat/completions?key=AIzaFake", b, map[string]string{"Authorization": "Bearer sk-test"})
	}
	recs := srv.Requests()
	if len(recs) != len(bodies) || srv.Calls() != len(bodies) || srv.CallsTo("/v1/chat/completions") != len(bodies) {
		t.Fatalf("%d records, %d calls", len(recs), srv.Calls())
	}
	for i, r := range recs {
		if string(r.Body) != bodies[i] || r.Method != http.MethodPost || r.Path != "/v1/chat/completions" || r.RawQuery != "key=AIzaFake" {
			t.Fatalf("record %d: %+v", i, r)
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			t.Fatalf("record %d header %v", i, r.Header)
		}
	}
	recs[0].Body[0] = 'X' // callers get copies
	if srv.Requests()[0].Body[0] != '{' {
		t.Fatal("Requests shares its storage with callers")
	}
	srv.Reset()
	if srv.Calls() != 0 || len(srv.Requests()) != 0 || srv.CallsTo("/v1/chat/completions") != 0 {
		t.Fatal("Reset left state behind")
	}
	_, b := post(t, srv, "/v1/chat/completions", bodies[0], nil)
	if !bytes.Contains(b, []byte(`"echo: a #1"`)) {
		t.Fatalf("numbering did not restart: %s", b)
	}
}

func TestRecordLimit(t *testing.T) {
	srv := Start(t)
	srv.SetRecordLimit(3)
	for i := range 7 {
		post(t, srv, fmt.Sprintf("/v1/x%d", i), "", nil)
	}
	var paths []string
	for _, r := range srv.Requests() {
		paths = append(paths, r.Path)
	}
	if got := strings.Join(paths, ","); got != "/v1/x4,/v1/x5,/v1/x6" {
		t.Fatalf("kept %s", got)
	}
	srv.SetRecordLimit(2)
	if got := len(srv.Requests()); got != 2 || srv.Requests()[0].Path != "/v1/x5" {
		t.Fatalf("after shrinking kept %d: %+v", got, srv.Requests())
	}
	srv.SetRecordLimit(0)
	post(t, srv, "/v1/y", "", nil)
	if len(srv.Requests()) != 0 || srv.Calls() != 8 {
		t.Fatalf("recording off kept %d, %d calls", len(srv.Requests()), srv.Calls())
	}
}

func TestBadRequests(t *testing.T) {
	srv := Start(t)
	tests := []struct {
		name, method, path, body string
		headers                  map[string]string
		wantStatus               int
		wantType                 string // error.type
		wantInMsg                string
	}{
		{"unknown path", "POST", "/v1/nope", `{}`, nil, 404, "invalid_request_error", "Invalid URL (POST /v1/nope)"},
		{"wrong method", "GET", "/v1/chat/completions", ``, nil, 405, "invalid_request_error", "Invalid method"},
		{"invalid json", "POST", "/v1/chat/completions", `{"model":`, nil, 400, "invalid_request_error", "We could not parse the JSON body of your request."},
		{"not an object", "POST", "/v1/embeddings", `[1,2]`, nil, 400, "invalid_request_error", "Invalid request body"},
		{"missing model", "POST", "/v1/responses", `{"input":"hi"}`, nil, 400, "invalid_request_error", "you must provide a model parameter"},
		{"anthropic invalid json", "POST", "/v1/messages", `{`, nil, 400, "invalid_request_error", "error parsing the body"},
		{"anthropic missing model", "POST", "/v1/messages", `{"messages":[]}`, nil, 400, "invalid_request_error", "model: Field required"},
		{"bad chunks knob", "POST", "/v1/chat/completions", `{"model":"m"}`, map[string]string{"x-fake-chunks": "0"}, 400, "invalid_request_error", "x-fake-chunks"},
		{"bad usage knob", "POST", "/v1/messages", `{"model":"m"}`, map[string]string{"x-fake-usage": "1"}, 400, "invalid_request_error", "x-fake-usage"},
		{"status out of range", "POST", "/v1/chat/completions", `{"model":"m"}`, map[string]string{"x-fake-status": "200"}, 400, "invalid_request_error", "x-fake-status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, srv, tt.method, tt.path, tt.body, tt.headers)
			var got struct {
				Type  string `json:"type"`
				Error struct {
					Type    string          `json:"type"`
					Message string          `json:"message"`
					Param   json.RawMessage `json:"param"`
				} `json:"error"`
			}
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus || got.Error.Type != tt.wantType || !strings.Contains(got.Error.Message, tt.wantInMsg) {
				t.Fatalf("got %d %+v", res.StatusCode, got)
			}
			anthropic := tt.path == "/v1/messages"
			if anthropic != (got.Type == "error") || anthropic == (string(got.Error.Param) == "null") {
				t.Fatalf("wrong provider shape: %+v", got)
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	srv := Start(t)
	const n = 50
	var wg sync.WaitGroup
	contents := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"q%d"}]}`, i)
			res, err := http.Post(srv.URL()+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			var cc struct {
				Choices []struct {
					Message struct{ Content string } `json:"message"`
				} `json:"choices"`
			}
			errs[i] = json.NewDecoder(res.Body).Decode(&cc)
			if errs[i] == nil {
				contents[i] = cc.Choices[0].Message.Content
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, c := range contents {
		prefix := fmt.Sprintf("echo: q%d #", i)
		num := strings.TrimPrefix(c, prefix)
		if num == c || seen[num] {
			t.Fatalf("answer %d = %q (duplicate or wrong number)", i, c)
		}
		seen[num] = true
	}
	if srv.Calls() != n || len(srv.Requests()) != n {
		t.Fatalf("%d calls, %d records", srv.Calls(), len(srv.Requests()))
	}
}

func TestGzipAnswers(t *testing.T) {
	srv := Start(t)
	body := `{"model":"m","messages":[{"role":"user","content":"zip"}]}`
	tests := []struct {
		name, accept string
		wantGzip     bool
	}{
		{"accepted", "gzip, deflate", true},
		{"wildcard", "*", true},
		{"refused", "gzip;q=0, identity", false},
		{"identity only", "identity", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := post(t, srv, "/v1/chat/completions", body, map[string]string{"x-fake-gzip": "1", "Accept-Encoding": tt.accept})
			if gz := res.Header.Get("Content-Encoding") == "gzip"; gz != tt.wantGzip {
				t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
			}
			if tt.wantGzip {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if b, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !json.Valid(b) || !bytes.Contains(b, []byte("echo: zip #")) {
				t.Fatalf("body %q", b)
			}
		})
	}
}

func TestSizeKnob(t *testing.T) {
	srv := Start(t)
	for _, size := range []int{0, 100, 5000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			_, b := post(t, srv, "/v1/messages", `{"model":"claude","messages":[{"role":"user","content":"big"}]}`, map[string]string{"x-fake-size": fmt.Sprint(size)})
			var msg struct {
				Content []struct{ Text string } `json:"content"`
			}
			if err := json.Unmarshal(b, &msg); err != nil {
				t.Fatal(err)
			}
			text := msg.Content[0].Text
			if !strings.HasPrefix(text, "echo: big") || (size > 0 && len(text) != size) {
				t.Fatalf("%d bytes: %q", len(text), text)
			}
		})
	}
}

func TestDieAfterJSONSendsHalf(t *testing.T) {
	srv := Start(t)
	res, err := http.Post(srv.URL()+"/v1/embeddings", "application/json", strings.NewReader(`{"model":"e","input":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := io.ReadAll(res.Body)
	res.Body.Close()

	res = do(t, srv, http.MethodPost, "/v1/embeddings", `{"model":"e","input":"x"}`, map[string]string{"x-fake-die-after": "0"})
	half, err := io.ReadAll(res.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || res.ContentLength != int64(len(whole)) || len(half) != len(whole)/2 {
		t.Fatalf("err %v, Content-Length %d, got %d of %d bytes", err, res.ContentLength, len(half), len(whole))
	}
}
