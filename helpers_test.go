package llmgate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// client is a plain HTTP client for raw requests to the Caddy under test.
var client = &http.Client{Timeout: 30 * time.Second}

// post sends body to url with header pairs ("Name", "value", ...; "Host"
// sets the request's host, an empty value removes the header, a name
// given again adds a second value) and returns the answer with its body
// read. The default credential is unique
// to the site (each test gets a fresh port), because cache entries outlive
// a config, as they should, and must not leak from one test into the next.
func post(t *testing.T, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	resp, b, err := send(t, url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// send is post for answers that may be cut short: it returns what arrived
// and the error that ended the body.
func send(t *testing.T, url, body string, header ...string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test-"+req.URL.Host)
	given := map[string]bool{}
	for i := 0; i+1 < len(header); i += 2 {
		name, value := http.CanonicalHeaderKey(header[i]), header[i+1]
		switch {
		case name == "Host":
			req.Host = value
		case value == "":
			req.Header.Del(name)
		case given[name]:
			req.Header.Add(name, value)
		default:
			req.Header.Set(name, value)
		}
		given[name] = true
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// sdk returns the official OpenAI client pointed at a Caddy site.
func sdk(site, key string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(site + "/v1/"),
		option.WithAPIKey(key),
	}, opts...)...)
}

// chat is a small chat completion request.
func chat(model, prompt string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	}
}

// openAIError is the error OpenAI's SDKs parse, inside {"error": …}.
type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// parseOpenAIError reads an answer llmgate gave in OpenAI's error shape,
// and fails the test when it is not one: JSON, with "param":null.
func parseOpenAIError(t *testing.T, resp *http.Response, body string) openAIError {
	t.Helper()
	var e struct {
		Error openAIError `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("not an error in OpenAI's shape (%v, Content-Type %q): %s", err, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(body, `"param":null`) {
		t.Errorf("param must be null: %s", body)
	}
	return e.Error
}
