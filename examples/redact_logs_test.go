package examples_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// Made-up keys (no real key is in the sources) in the shapes callers send
// and the gateway injects.
var (
	keyOpenAI    = "sk-proj-" + "Xq3v8Lm2Pz7Rt5Wn1Ky4Hc9Jd6Fb0Gs2Ae8T3BlbkFJu7Yi3Oo5Pp1Qq9Rr2Ss4Tt6Uu8Vv0Ww3Xx5Yy7Zz"
	keyAnthropic = "sk-ant-api03-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8Kl9Mn0Op1Qr2St3Uv4Wx5Yz6Ab7Cd8Ef9Gh0Ij1Kl2Mn3OpAA"
	keyAzure     = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	keyAPIM      = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	keyGoogle    = "AIza" + "SyD4kX9mQ2pL7vN3rT8wZ1cF6hJ0bG5eK2a"
	keyGroq      = "gsk_" + "W8qT3zLm5Rp9Xc2Vn7Kd4Hy6Jb1Fs0Ag3Ue8Io5Pl2Mk9Nj4Bh7Gv"
	tokenJWT     = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJ0ZWFtLWEiLCJleHAiOjE3Njc5OTk5OTl9." + "q7Xv2Lm9Pz4Rt1Wn6Ky3Hc8Jd5Fb0Gs7Ae2Uy9Io4"
	tokenAuth    = "tA9xQ2mL7vR4pZ8wK3nC6hJ1bG5eY0sD"
	// Provider keys the multi-provider example injects from the environment.
	keyUpOpenAI    = "sk-proj-" + "Up1Op2En3Ai4Ke5Yy6Zz7Aa8Bb9Cc0Dd1Ee2T3BlbkFJFf3Gg4Hh5Ii6Jj7Kk8Ll9Mm0Nn1Oo2Pp"
	keyUpAnthropic = "sk-ant-api03-" + "Up1An2Th3Ro4Pi5Cc6Kk7Ee8Yy9Zz0Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk1Ll2Mm3Nn4Oo5Pp6Qq7Rr8Ss9Tt0Uu1Vv2Ww3XxAA"
)

// exampleSecrets are the secrets that must reach no log line: the keys
// without the prefix that stays visible.
var exampleSecrets = func() []string {
	var out []string
	for _, k := range []string{keyOpenAI, keyAnthropic, keyAzure, keyAPIM, keyGoogle, keyGroq, tokenJWT, tokenAuth, keyUpOpenAI, keyUpAnthropic} {
		for _, prefix := range []string{"sk-ant-api03-", "sk-proj-", "AIza", "gsk_"} {
			k = strings.TrimPrefix(k, prefix)
		}
		out = append(out, k)
	}
	return out
}()

// exampleRequests carry a key in every place a caller puts one. In the
// multi-provider example the first two are the teams' gateway keys, which
// reach the upstream; the others are refused there. In the local example
// the gateway key is the second's.
var exampleRequests = []struct {
	path, body string
	header     []string
}{
	{"/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, []string{"Authorization", "Bearer " + keyOpenAI}},
	{"/v1/messages", `{"model":"claude-3-5-haiku","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, []string{"X-Api-Key", keyAnthropic}},
	{"/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01", `{"messages":[]}`, []string{"Api-Key", keyAzure, "ocp-apim-subscription-key", keyAPIM}},
	{"/v1beta/models/gemini:generateContent?key=" + keyGoogle, `{"contents":[]}`, []string{"X-Goog-Api-Key", keyGoogle}},
	{"/v1/chat/completions?access_token=" + tokenJWT + "&token=" + tokenAuth, `{"model":"llama-3.1-8b","messages":[]}`, []string{"X-Auth-Token", tokenAuth, "X-Groq-Key", "gsk_" + keyGroq[4:]}},
	{"/v1/chat/completions?model=" + strings.ReplaceAll(keyOpenAI, "-", "%2D"), `{"model":"m","messages":[]}`, []string{"X-Api-Key", keyAnthropic}},
}

// TestExamplesKeepKeysOutOfLogs runs every example config as shipped, with
// its upstream down, every log (the default log included) written to a
// file at DEBUG and then at ERROR, and looks for the keys of the requests
// in every line.
func TestExamplesKeepKeysOutOfLogs(t *testing.T) {
	for _, f := range exampleConfigs(t) {
		for _, level := range []string{"DEBUG", "ERROR"} {
			t.Run(f+"/"+level, func(t *testing.T) {
				logs := runExample(t, f, level, false)
				lines := 0
				for name, text := range logs {
					lines += strings.Count(text, "\n")
					for _, line := range strings.Split(text, "\n") {
						for _, secret := range exampleSecrets {
							if run := leakedRun(line, secret); run != "" {
								t.Errorf("%s log: %q of a key in clear: %s", name, run, line)
							}
						}
					}
				}
				if !strings.Contains(logs["default"], `"logger":"http.log.error`) {
					t.Errorf("no error line reached the default log: the test sees nothing:\n%s", logs["default"])
				}
				if lines == 0 {
					t.Fatal("no log line written")
				}
			})
		}
	}
}

// TestExamplesLogsControl: with the default log's llm_redact taken out,
// Caddy's error log writes the callers' keys to it in clear, so
// TestExamplesKeepKeysOutOfLogs finding none there means the examples'
// redaction removed them.
func TestExamplesLogsControl(t *testing.T) {
	for _, f := range exampleConfigs(t) {
		t.Run(f, func(t *testing.T) {
			logs := runExample(t, f, "ERROR", true)
			if !strings.Contains(logs["default"], keyAnthropic) {
				t.Errorf("the X-Api-Key key is not in the plain default log:\n%s", logs["default"])
			}
		})
	}
}

// exampleConfigs lists the example configs that proxy to an upstream.
func exampleConfigs(t *testing.T) []string {
	caddyfiles, _ := filepath.Glob("*/Caddyfile")
	jsons, _ := filepath.Glob("json/*.json")
	if len(caddyfiles) < 6 || len(jsons) == 0 {
		t.Fatalf("example configs missing: %v %v", caddyfiles, jsons)
	}
	return append(caddyfiles, jsons...)
}

// leakedRun returns a 12-byte run of secret found in line, or "".
func leakedRun(line, secret string) string {
	for i := 0; i+12 <= len(secret); i++ {
		if run := secret[i : i+12]; strings.Contains(line, run) {
			return run
		}
	}
	return ""
}

// runExample loads the example config f with its upstream (and proxy,
// and Redis) on a port where nothing listens (testcaddy.DeadAddr, so no
// other test's server is given it meanwhile), its servers on loopback
// without HTTPS, and every log at level written to a file of its own; the
// default log is added when the example leaves it out, as Caddy writes it
// then. With plainDefault the default log's encoder is taken out. It sends
// exampleRequests and returns each log's text by log name.
func runExample(t *testing.T, f, level string, plainDefault bool) map[string]string {
	down := testcaddy.DeadAddr(t)
	dir := t.TempDir()
	t.Setenv("DEMO_PORT", "8080")
	t.Setenv("DEMO_UPSTREAM", down)
	t.Setenv("DEMO_LOG", filepath.Join(dir, "demo-access.log"))
	t.Setenv("REDIS_URL", "redis://"+down+"/0")
	t.Setenv("EGRESS_PROXY", "http://user:password@"+down)
	t.Setenv("GATEWAY_KEY_TEAM_A", keyOpenAI)
	t.Setenv("GATEWAY_KEY_TEAM_B", keyAnthropic)
	t.Setenv("GATEWAY_KEY", keyAnthropic)
	t.Setenv("OPENAI_API_KEY", keyUpOpenAI)
	t.Setenv("ANTHROPIC_API_KEY", keyUpAnthropic)
	for i := range 3 { // a pool's keys, each its own; a leak shows as keyUpOpenAI's
		t.Setenv(fmt.Sprint("OPENAI_KEY_", i+1), keyUpOpenAI+fmt.Sprint(i))
	}

	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(f) != ".json" {
		if b, err = testcaddy.Adapt(string(b)); err != nil {
			t.Fatal(err)
		}
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}

	logging := object(cfg, "logging")
	logs := object(logging, "logs")
	if logs["default"] == nil {
		logs["default"] = map[string]any{}
	}
	files := map[string]string{}
	for name, l := range logs {
		l := l.(map[string]any)
		files[name] = filepath.Join(dir, name+".log")
		l["writer"] = map[string]any{"output": "file", "filename": files[name]}
		l["level"] = level
		if name == "default" && plainDefault {
			delete(l, "encoder")
		}
	}

	var sites []string
	host := ""
	for _, srv := range object(object(object(cfg, "apps"), "http"), "servers") {
		srv := srv.(map[string]any)
		addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		srv["listen"] = []any{addr}
		srv["automatic_https"] = map[string]any{"disable": true}
		delete(srv, "tls_connection_policies")
		sites = append(sites, "http://"+addr)
		walk(srv, func(m map[string]any) {
			if _, ok := m["dial"].(string); ok {
				m["dial"] = down
			}
			if hosts, ok := m["host"].([]any); ok && host == "" && len(hosts) > 0 {
				host = hosts[0].(string)
			}
		})
	}
	b, err = json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testcaddy.LoadJSON(t, b)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, site := range sites {
		for _, r := range exampleRequests {
			req, err := http.NewRequest(http.MethodPost, site+r.path, strings.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = host
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(r.header); i += 2 {
				req.Header.Set(r.header[i], r.header[i+1])
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	// Reload to a config of its own logs: the files are flushed and closed.
	testcaddy.Load(t, testcaddy.Global("")+testcaddy.Site(t)+" {\n\trespond ok\n}\n")

	out := map[string]string{}
	for name, file := range files {
		b, _ := os.ReadFile(file) // a log that wrote nothing has no file
		out[name] = string(b)
	}
	return out
}

// object returns m[key] as an object, made and set when absent.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}

// walk calls f on every object in v, depth first.
func walk(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
		for _, e := range v {
			walk(e, f)
		}
	case []any:
		for _, e := range v {
			walk(e, f)
		}
	}
}
