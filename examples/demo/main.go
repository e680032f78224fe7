// Command demo runs Caddy with llmgate in front of a built-in fake OpenAI
// upstream, sends it requests as the OpenAI SDKs do, and prints what
// llmgate did with each one.
//
//	go run ./examples/demo
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	// Only the modules the demo's Caddyfile uses: the Caddyfile adapter,
	// the HTTP server, reverse_proxy and the file log. Caddy's standard
	// set (cmd/caddy's) compiles much more on a first run.
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	_ "github.com/caddyserver/caddy/v2/modules/logging"

	_ "github.com/llmgate/caddy-llmgate"
	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
)

//go:embed Caddyfile
var caddyfile []byte

func main() {
	// Go printed nothing while it compiled: say at once that the demo runs.
	fmt.Println("llmgate demo: starting Caddy with llmgate…")
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	up := fakeai.New()
	defer up.Close()
	port, err := harness.PickPort()
	if err != nil {
		return err
	}
	site := "http://127.0.0.1:" + strconv.Itoa(port)
	os.Setenv("DEMO_PORT", strconv.Itoa(port))
	os.Setenv("DEMO_UPSTREAM", up.URL())
	logFile, err := os.CreateTemp("", "llmgate-demo-*.log")
	if err != nil {
		return err
	}
	logFile.Close()
	defer os.Remove(logFile.Name())
	os.Setenv("DEMO_LOG", logFile.Name())
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(caddyfile, map[string]any{"filename": "examples/demo/Caddyfile"})
	if err != nil {
		return err
	}
	if err := caddy.Load(cfg, true); err != nil {
		return err
	}
	defer caddy.Stop()

	fmt.Printf("llmgate demo: Caddy on %s, fake OpenAI upstream on %s\n\n", site, up.URL())
	if err := demoCache(site, up); err != nil {
		return err
	}
	if err := demoLimit(site, up); err != nil {
		return err
	}
	return demoRedact(site, logFile.Name())
}

// demoCache shows misses, hits and tenant isolation.
func demoCache(site string, up *fakeai.Server) error {
	fmt.Println("== response cache (llm_cache) ==")
	ask := func(label, key, prompt string) error {
		resp, answer, err := client{site: site, key: key}.chat(prompt)
		if err != nil {
			return err
		}
		fmt.Printf("%-44s Cache-Status: %-28s upstream calls: %d  answer: %q\n",
			label, resp.Header.Get("Cache-Status"), up.Calls(), answer)
		return nil
	}
	if err := ask("key sk-demo-alice:", "sk-demo-alice", "Say hello"); err != nil {
		return err
	}
	if err := ask("the same request again:", "sk-demo-alice", "Say hello"); err != nil {
		return err
	}
	// The same request written by hand, with keys in another order and
	// other spacing: the canonical body, and so the key, is the same.
	raw := `{ "messages": [ {"content": "Say hello", "role": "user"} ], "model": "gpt-4o-mini" }`
	resp, _, err := post(site+"/v1/chat/completions", raw, "Authorization", "Bearer sk-demo-alice")
	if err != nil {
		return err
	}
	fmt.Printf("%-44s Cache-Status: %-28s upstream calls: %d\n", "raw JSON, keys reordered, other spacing:", resp.Header.Get("Cache-Status"), up.Calls())
	if err := ask("same prompt, another tenant (sk-demo-bob):", "sk-demo-bob", "Say hello"); err != nil {
		return err
	}
	fmt.Println()
	return nil
}

// demoLimit sends a burst over the per-key limit: llmgate answers 429 in
// OpenAI's shape with retry-after-ms, and the client waits and retries.
func demoLimit(site string, up *fakeai.Server) error {
	fmt.Println("== rate limit (llm_ratelimit, 5 requests/s per key) ==")
	refused := 0
	c := client{site: site, key: "sk-demo-carol", refused: func(resp *http.Response) {
		refused++
		if refused == 1 {
			fmt.Printf("first 429: Retry-After-Ms %s, x-ratelimit-remaining-requests %s\n",
				resp.Header.Get("Retry-After-Ms"), resp.Header.Get("X-Ratelimit-Remaining-Requests"))
		}
	}}
	const n = 10
	before, start := up.Calls(), time.Now()
	for i := range n {
		if _, _, err := c.chat(fmt.Sprint("question ", i)); err != nil {
			return err
		}
	}
	fmt.Printf("%d requests back to back from sk-demo-carol: %d refusals (429) retried as the OpenAI SDKs retry, all %d answered in %.1fs, upstream calls %d\n\n",
		n, refused, n, time.Since(start).Seconds(), up.Calls()-before)
	return nil
}

// client asks for chat completions the way the OpenAI SDKs do: the key
// as a bearer token, and a 429 retried, twice at most, after the time its
// retry-after-ms asks for, unless it says x-should-retry: false. The demo
// leaves the SDK out because compiling it would take about a minute of a
// first run; the tests run the SDKs themselves (Go, and Node's OpenAI and
// Anthropic).
type client struct {
	site, key string
	// refused, when set, is told of each 429 before it is retried.
	refused func(*http.Response)
}

// chatRequest is the body of a chat completion request, its members in
// the order the SDKs send them.
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chat asks the model of the demo prompt, and returns the answer and its
// message.
func (c client) chat(prompt string) (*http.Response, string, error) {
	body, err := json.Marshal(chatRequest{Model: "gpt-4o-mini", Messages: []chatMessage{{Role: "user", Content: prompt}}})
	if err != nil {
		return nil, "", err
	}
	for retries := 0; ; retries++ {
		resp, text, err := post(c.site+"/v1/chat/completions", string(body), "Authorization", "Bearer "+c.key)
		switch {
		case err != nil:
			return nil, "", err
		case resp.StatusCode == http.StatusTooManyRequests && retries < 2 && resp.Header.Get("X-Should-Retry") != "false":
			if c.refused != nil {
				c.refused(resp)
			}
			ms, _ := strconv.Atoi(resp.Header.Get("Retry-After-Ms"))
			time.Sleep(time.Duration(ms) * time.Millisecond)
			continue
		case resp.StatusCode != http.StatusOK:
			return nil, "", fmt.Errorf("%s: %s", resp.Status, text)
		}
		var answer struct {
			Choices []struct {
				Message chatMessage `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(text), &answer); err != nil || len(answer.Choices) == 0 {
			return nil, "", fmt.Errorf("not a chat completion: %s", text)
		}
		return resp, answer.Choices[0].Message.Content, nil
	}
}

// demoRedact sends keys where Caddy's own access log would show them and
// prints the log line llm_redact wrote.
func demoRedact(site, logPath string) error {
	fmt.Println("== redaction (format llm_redact) ==")
	const anthropicKey = "sk-ant-api03-R2D2c3poBB8yodaLuke0Leia1Han2Solo3Chewie4Lando5Vader6Palpatine7Obiwan8Kenobi9Quigon0Jinn1Padme2Amidala3MaceAA"
	const googleKey = "AIzaSyDemo0123456789abcdefghijklmnopq"
	body := `{"model":"claude-3-5-haiku-latest","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
	if _, _, err := post(site+"/v1/messages?key="+googleKey, body, "X-Api-Key", anthropicKey, "Anthropic-Version", "2023-06-01"); err != nil {
		return err
	}
	fmt.Printf("request:  POST /v1/messages?key=%s\n          X-Api-Key: %s\n", googleKey, anthropicKey)
	// The access log line is written as the request ends.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "/v1/messages") {
				continue
			}
			var entry struct {
				Request struct {
					URI     string              `json:"uri"`
					Headers map[string][]string `json:"headers"`
				} `json:"request"`
				Status int `json:"status"`
			}
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				return fmt.Errorf("log line is not JSON: %v", err)
			}
			fmt.Printf("log line: \"uri\":%q, \"X-Api-Key\":%q, \"status\":%d\n"+
				"          (a stock Caddy access log shows both keys in clear: it hides only Authorization and cookies)\n",
				entry.Request.URI, entry.Request.Headers["X-Api-Key"], entry.Status)
			return nil
		}
	}
	return fmt.Errorf("no access log line in %s", logPath)
}

// post sends a JSON body to url with header pairs, as a client written by
// hand would, and returns the answer and its body.
func post(url, body string, header ...string) (*http.Response, string, error) {
	req, err := harness.NewPost(context.Background(), url, body, header...)
	if err != nil {
		return nil, "", err
	}
	resp, text, err := harness.Send(req, nil)
	if resp == nil {
		return nil, "", err
	}
	return resp, text, nil
}
