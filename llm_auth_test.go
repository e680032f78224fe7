package llmgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/keyring"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/spf13/cobra"
)

// authSite loads a site with llm_auth (keys from a keys file of the given
// keys, and the extra lines), the directives after it, and a fake
// upstream.
func authSite(t *testing.T, keys []keyring.Key, extra, directives string) (site string, up *fakeai.Server) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "keys.json")
	b, _ := json.Marshal(keyring.File{Keys: keys})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return proxySite(t, fmt.Sprintf("\tllm_auth {\n\t\tkeys_file %s\n%s\n\t}\n\theader >X-Team {http.llm.team}\n%s", file, extra, directives))
}

// TestAuthKeys: a good key passes, and its key never reaches the
// upstream; a missing, unknown or expired key, or a second key beside a
// good one, is refused 401 in the shape of the caller's API, as the SDK's
// AuthenticationError, before the upstream; a model outside the key's
// list, 403.
func TestAuthKeys(t *testing.T) {
	good, other, old := keyring.New(), keyring.New(), keyring.New()
	site, up := authSite(t, []keyring.Key{
		{SHA256: keyring.Hash(good), Team: "ci", Models: []string{"gpt-4o-mini", "claude-3-5-haiku*"}},
		{SHA256: keyring.Hash(other), Team: "research"},
		{SHA256: keyring.Hash(old), Team: "ci", Expires: "2020-01-01"},
	}, "", "")
	before := testcaddy.Metrics(t)

	c := sdk(site, good)
	if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini", "auth")); err != nil {
		t.Fatalf("good key: %v", err)
	}
	for _, rec := range up.Requests() {
		for name, values := range rec.Header {
			if strings.Contains(strings.Join(values, " "), good) {
				t.Errorf("the upstream got the gateway key in %s", name)
			}
		}
	}

	calls := up.Calls()
	for _, tc := range []struct {
		name string
		key  string
		opts []string
	}{
		{"unknown", keyring.New(), nil},
		{"expired", old, nil},
		{"a second key", good, []string{"X-Api-Key", other}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []option.RequestOption
			for i := 0; i+1 < len(tc.opts); i += 2 {
				opts = append(opts, option.WithHeader(tc.opts[i], tc.opts[i+1]))
			}
			c := sdk(site, tc.key, opts...)
			_, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini", "refused"))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
				t.Fatalf("error %v, want 401 invalid_api_key", err)
			}
		})
	}
	if up.Calls() != calls {
		t.Errorf("the upstream was called %d times for refused keys", up.Calls()-calls)
	}

	// Anthropic's shape on an Anthropic request; 403 for a model the key
	// may not use.
	resp, body := harness.Post(t, site+"/v1/messages", messagesBody, "X-Api-Key", "sk-ant-unknown", "Anthropic-Version", "2023-06-01")
	var e anthropicError
	if resp.StatusCode != 401 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Type != "authentication_error" {
		t.Errorf("Anthropic request, unknown key: %d %s", resp.StatusCode, body)
	}
	resp, body = harness.Post(t, site+"/v1/chat/completions", `{"model":"gpt-4o","messages":[]}`, "Authorization", "Bearer "+good)
	if oe := parseOpenAIError(t, resp, body); resp.StatusCode != 403 || oe.Code != "model_not_found" || !strings.Contains(oe.Message, `"gpt-4o"`) {
		t.Errorf("a model outside the key's list: %d %s", resp.StatusCode, body)
	}
	resp, body = harness.Post(t, site+"/v1/messages", messagesBody, "X-Api-Key", good, "Anthropic-Version", "2023-06-01")
	if resp.StatusCode != 200 || resp.Header.Get("X-Team") != "ci" {
		t.Errorf("Anthropic request, good key, allowed model: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if up.Calls() != calls+1 {
		t.Errorf("upstream calls %d, want %d", up.Calls(), calls+1)
	}
	// Each decision is counted under its result.
	after := testcaddy.Metrics(t)
	for result, want := range map[string]float64{"allowed": 2, "unknown_key": 2, "expired": 1, "several_keys": 1, "model": 1, "no_key": 0} {
		series := `llmgate_auth_requests_total{result="` + result + `"}`
		if _, ok := after[series]; !ok {
			t.Errorf("%s is not on /metrics", series)
		}
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
}

// TestAuthPartitionsByIdentity: the cache's scope key and the limits'
// default key are the proven key: two teams asking the same never share
// an answer; two keys of one team share with scope {http.llm.team}; and
// headers beside a good key open no new bucket.
func TestAuthPartitionsByIdentity(t *testing.T) {
	a, b, c := keyring.New(), keyring.New(), keyring.New()
	keys := []keyring.Key{{SHA256: keyring.Hash(a), Team: "red"}, {SHA256: keyring.Hash(b), Team: "blue"}, {SHA256: keyring.Hash(c), Team: "red"}}
	prompt := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"same %s"}]}`

	site, up := authSite(t, keys, "", "\tllm_cache")
	body := fmt.Sprintf(prompt, site)
	harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer "+a)
	harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer "+b)
	if up.Calls() != 2 {
		t.Errorf("two teams, one prompt: %d upstream calls, want 2", up.Calls())
	}

	site, up = authSite(t, keys, "", "\tllm_cache {\n\t\tscope {http.llm.team}\n\t}")
	body = fmt.Sprintf(prompt, site)
	harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer "+a)
	resp, _ := harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer "+c)
	if up.Calls() != 1 || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Errorf("two keys of one team, scope {http.llm.team}: %d upstream calls, %q", up.Calls(), resp.Header.Get("Cache-Status"))
	}

	// Keys read from Authorization only: a made-up X-Api-Key goes with
	// the request but is no identity.
	site, _ = authSite(t, keys, "\t\tfrom Authorization", limitDirective(fmt.Sprintf("zone auth_%d {\n requests 2/h \n}", harness.FreePort(t))))
	for i := range 3 {
		resp, body := harness.Post(t, site+"/v1/chat/completions", fmt.Sprintf(prompt, "limit"),
			"Authorization", "Bearer "+a, "X-Api-Key", fmt.Sprint("sk-made-up-", i))
		if want := map[bool]int{true: 200, false: 429}[i < 2]; resp.StatusCode != want {
			t.Fatalf("request %d with a new X-Api-Key: %d, want %d: %s", i, resp.StatusCode, want, body)
		}
	}
}

// TestAuthAdaptErrors: bad keys fail adapt with their line.
func TestAuthAdaptErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, keys ...keyring.Key) string {
		path := filepath.Join(dir, name)
		b, _ := json.Marshal(keyring.File{Keys: keys})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := write("bad.json", keyring.Key{SHA256: "not-a-hash", Team: "x"})
	dup := write("dup.json", keyring.Key{SHA256: keyring.Hash("k"), Team: "x"}, keyring.Key{SHA256: keyring.Hash("k"), Team: "y"})
	good := write("good.json", keyring.Key{SHA256: keyring.Hash("k"), Team: "x"})
	for _, tc := range []struct{ block, want, line string }{
		{"keys_file " + bad, "want 64 hex digits", "Caddyfile:3"},
		{"keys_file " + dup, "the same key is given twice", "Caddyfile:3"},
		{"keys_file " + filepath.Join(dir, "missing.json"), "no such file", "Caddyfile:3"},
		{"key {env.K} {\n\t\t\ttier gold\n\t\t}", "key: no team", "Caddyfile:5"},
		{"keys_file " + good + "\n\t\tkey k {\n\t\t\tteam y\n\t\t}", "the same key is given twice", "Caddyfile:4"},
		{"", "no keys", "Caddyfile:"},
	} {
		_, err := testcaddy.Adapt(":8080 {\n\tllm_auth {\n\t\t" + tc.block + "\n\t}\n}\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%q: %v, want %q at %s", tc.block, err, tc.want, tc.line)
		}
	}
}

// TestLLMKeyCommand: caddy llm-key new makes a key whose hash it prints,
// and hash prints the hash of a key given or read from standard input.
func TestLLMKeyCommand(t *testing.T) {
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := &cobra.Command{Use: "llm-key"}
		caddycmd.Commands()["llm-key"].CobraFunc(cmd)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("llm-key %v: %v", args, err)
		}
		return out.String()
	}
	out := run("", "new", "--team", "ci")
	var key, sum string
	fmt.Sscanf(out, "key: %s\nsha256: %s", &key, &sum)
	if !strings.HasPrefix(key, "sk-llmgate-") || sum != keyring.Hash(key) || !strings.Contains(out, `"team":"ci"`) {
		t.Fatalf("llm-key new printed:\n%s", out)
	}
	if got := strings.TrimSpace(run("", "hash", key)); got != sum {
		t.Errorf("llm-key hash <key> = %q, want %q", got, sum)
	}
	if got := strings.TrimSpace(run(key+"\n", "hash")); got != sum {
		t.Errorf("llm-key hash < key = %q, want %q", got, sum)
	}
}

// TestAuthNoSharedFlightAcrossTeams: a request identical to one in flight
// joins it only within the partition the proven key gives: another team's
// identical request makes its own upstream call; a key of the same team,
// with scope {http.llm.team}, shares the call.
func TestAuthNoSharedFlightAcrossTeams(t *testing.T) {
	a, b, c := keyring.New(), keyring.New(), keyring.New()
	keys := []keyring.Key{{SHA256: keyring.Hash(a), Team: "red"}, {SHA256: keyring.Hash(b), Team: "blue"}, {SHA256: keyring.Hash(c), Team: "red"}}
	site, up := authSite(t, keys, "", "\tllm_cache {\n\t\tscope {http.llm.team}\n\t}")
	body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"in flight %s"}]}`, site)
	send := func(key string, status chan<- string) {
		resp, _ := harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer "+key, "x-fake-delay", "700ms")
		status <- resp.Header.Get("Cache-Status")
	}
	first := make(chan string, 1)
	go send(a, first)
	harness.Eventually(t, "the first call upstream", func() bool { return up.Calls() == 1 })
	others := make(chan string, 2)
	go send(b, others) // another team: a call of its own
	go send(c, others) // the same team: joins the first
	statuses := []string{<-first, <-others, <-others}
	if up.Calls() != 2 {
		t.Errorf("upstream calls %d, want 2 (statuses %q)", up.Calls(), statuses)
	}
	// The same team's request shares the call (or, on a machine slow
	// enough that it came after the call ended, its stored answer).
	shared := 0
	for _, s := range statuses {
		if strings.HasSuffix(s, "collapsed") || strings.HasPrefix(s, "llmgate; hit") {
			shared++
		}
	}
	if shared != 1 {
		t.Errorf("Cache-Status %q: want one request answered without a call of its own", statuses)
	}
}
