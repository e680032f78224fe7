// Command demo runs Caddy with llmgate in front of a built-in fake OpenAI
// upstream, sends it requests with the official OpenAI Go SDK, and prints
// what llmgate did with each one.
//
//	go run ./examples/demo
package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	_ "github.com/llmgate/caddy-llmgate"
	"github.com/llmgate/caddy-llmgate/internal/fakeai"
)

//go:embed Caddyfile
var caddyfile []byte

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	up := fakeai.New()
	defer up.Close()
	port, err := freePort()
	if err != nil {
		return err
	}
	site := "http://127.0.0.1:" + strconv.Itoa(port)
	os.Setenv("DEMO_PORT", strconv.Itoa(port))
	os.Setenv("DEMO_UPSTREAM", up.URL())
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(caddyfile, map[string]any{"filename": "examples/demo/Caddyfile"})
	if err != nil {
		return err
	}
	if err := caddy.Load(cfg, true); err != nil {
		return err
	}
	defer caddy.Stop()

	fmt.Printf("llmgate demo: Caddy on %s, fake OpenAI upstream on %s\n\n", site, up.URL())
	return demoCache(site, up)
}

// demoCache shows misses, hits and tenant isolation.
func demoCache(site string, up *fakeai.Server) error {
	fmt.Println("== response cache (llm_cache) ==")
	ctx := context.Background()
	ask := func(label, key, prompt string) error {
		var resp *http.Response
		c := openai.NewClient(option.WithBaseURL(site+"/v1/"), option.WithAPIKey(key))
		out, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		}, option.WithResponseInto(&resp))
		if err != nil {
			return err
		}
		fmt.Printf("%-44s Cache-Status: %-28s upstream calls: %d  answer: %q\n",
			label, resp.Header.Get("Cache-Status"), up.Calls(), out.Choices[0].Message.Content)
		return nil
	}
	if err := ask("openai-go, key sk-demo-alice:", "sk-demo-alice", "Say hello"); err != nil {
		return err
	}
	if err := ask("the same request again:", "sk-demo-alice", "Say hello"); err != nil {
		return err
	}
	// The same request written by hand, with keys in another order and
	// other spacing: the canonical body, and so the key, is the same.
	raw := `{ "messages": [ {"content": "Say hello", "role": "user"} ], "model": "gpt-4o-mini" }`
	req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(raw))
	req.Header.Set("Authorization", "Bearer sk-demo-alice")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Printf("%-44s Cache-Status: %-28s upstream calls: %d\n", "raw JSON, keys reordered, other spacing:", resp.Header.Get("Cache-Status"), up.Calls())
	if err := ask("same prompt, another tenant (sk-demo-bob):", "sk-demo-bob", "Say hello"); err != nil {
		return err
	}
	fmt.Println()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
