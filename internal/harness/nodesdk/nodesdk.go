// Package nodesdk runs calls of the Node SDKs (openai and
// @anthropic-ai/sdk, as pinned in package.json here) against a server,
// for tests that check what those SDKs' users see.
//
// The packages are installed with `npm ci` in this folder (.ci/run does).
// Where node or the packages are missing the tests that need them skip,
// unless LLMGATE_NODE_SDK=required, which CI sets so that they fail.
package nodesdk

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Job is one run: Calls concurrent calls of one SDK, with its default
// retries.
type Job struct {
	// SDK is "openai" (chat completions) or "anthropic" (messages).
	SDK     string `json:"sdk"`
	BaseURL string `json:"baseURL"`
	APIKey  string `json:"apiKey"`
	Calls   int    `json:"calls"`
	// Prompt starts each call's prompt; the call's index follows it.
	Prompt string `json:"prompt"`
}

// Result is what one call got: success, or the error the SDK raised.
type Result struct {
	OK      bool   `json:"ok"`
	Status  int    `json:"status"`
	Name    string `json:"name"`    // the error's class, e.g. RateLimitError
	Message string `json:"message"` // the error's message as the SDK gives it
	Type    string `json:"type"`    // the API error's type, when the SDK parsed one
	// APIMessage is the API error's own message, when the SDK parsed one
	// (the Anthropic SDK's apiMessage).
	APIMessage string `json:"apiMessage"`
}

// Run runs job and returns each call's result.
func Run(t testing.TB, job Job) []Result {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@anthropic-ai", "sdk"))
	}
	if err != nil {
		if os.Getenv("LLMGATE_NODE_SDK") == "required" {
			t.Fatalf("the Node SDKs are required: %v (run npm ci in %s)", err, dir)
		}
		t.Skipf("the Node SDKs are not installed (%v): run npm ci in %s", err, dir)
	}
	arg, _ := json.Marshal(job)
	cmd := exec.Command(node, filepath.Join(dir, "sdk.mjs"), string(arg))
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sdk.mjs: %v", err)
	}
	var results []Result
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("node sdk.mjs printed %q: %v", out, err)
	}
	return results
}
