package llmgate_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// Keys of each shape llmgate must keep out of logs: prefix is the visible,
// non-secret part; secret the rest.
var testKeys = []struct{ name, prefix, secret string }{
	{"openai", "sk-proj-", "Xq3v8Lm2Pz7Rt5Wn1Ky4Hc9Jd6Fb0Gs2Ae8T3BlbkFJu7Yi3Oo5Pp1Qq9Rr2Ss4Tt6Uu8Vv0Ww3Xx5Yy7Zz"},
	{"anthropic", "sk-ant-api03-", "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8Kl9Mn0Op1Qr2St3Uv4Wx5Yz6Ab7Cd8Ef9Gh0Ij1Kl2Mn3OpAA"},
	{"azure", "", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
	{"google", "AIza", "SyD4kX9mQ2pL7vN3rT8wZ1cF6hJ0bG5eK2a"},
	{"gateway", "sk-", "gw0Lq2Wm4Ek6Rn8Tp1Ys3Ud5If7Og9Ph"},
	{"apim", "", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
	{"auth-token", "", "tA9xQ2mL7vR4pZ8wK3nC6hJ1bG5eY0sD"},
	{"jwt", "", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZWFtLWEifQ.q7Xv2Lm9Pz4Rt1Wn6Ky3Hc8Jd5Fb0Gs7Ae2Uy9Io4"},
	{"groq", "gsk_", "W8qT3zLm5Rp9Xc2Vn7Kd4Hy6Jb1Fs0Ag3Ue8Io5Pl2Mk9Nj4Bh7Gv"},
	{"encoded", "sk-svcacct-", "Ee1Nc2Od3Ed4Kk5Yy6Zz7Aa8Bb9Cc0Dd1T3BlbkFJFf3Gg4Hh5Ii6Jj7Kk8Ll9Mm0Nn1"},
}

// allKeys adds the key of the test's extra pattern.
var allKeys = append(testKeys, struct{ name, prefix, secret string }{"team", "gw_", "abcdefgh"})

// redactFormat is the log format of TestRedactCaddyLogs.
const redactFormat = `llm_redact {
			wrap json
			pattern "gw_[a-z]{8}"
		}`

func TestRedactCaddyLogs(t *testing.T) {
	access, debug := logKeys(t, redactFormat)

	hints := map[string]map[string]bool{} // key name → fingerprints seen
	lines := 0
	for _, file := range []string{access, debug} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			lines++
			if !json.Valid([]byte(line)) {
				t.Errorf("%s: not JSON: %s", filepath.Base(file), line)
			}
			for _, k := range allKeys {
				for i := 0; i+min(12, len(k.secret)) <= len(k.secret); i++ {
					if run := k.secret[i : i+min(12, len(k.secret))]; strings.Contains(line, run) {
						t.Fatalf("%s: %s key leaks (%q): %s", filepath.Base(file), k.name, run, line)
					}
				}
				if k.prefix == "" {
					continue
				}
				for _, m := range regexp.MustCompile(regexp.QuoteMeta(k.prefix)+`\[REDACTED:([0-9a-f]{4})\]`).FindAllStringSubmatch(line, -1) {
					if hints[k.name] == nil {
						hints[k.name] = map[string]bool{}
					}
					hints[k.name][m[1]] = true
				}
			}
		}
		f.Close()
	}
	if lines < logKeysRequests {
		t.Fatalf("only %d log lines", lines)
	}
	for _, name := range []string{"openai", "anthropic", "google", "groq", "encoded"} {
		if len(hints[name]) != 1 {
			t.Errorf("%s key: fingerprints %v, want one and the same in every line", name, hints[name])
		}
	}
	b, _ := os.ReadFile(access)
	if !strings.Contains(string(b), `"status":401`) || !strings.Contains(string(b), "gw_[REDACTED") {
		t.Errorf("access log misses the 401 or the extra pattern's marker:\n%s", b)
	}
	// The encoded key has the fingerprint it has in the cookie.
	for fp := range hints["encoded"] {
		if !strings.Contains(string(b), "sk%2Dsvcacct%2D[REDACTED:"+fp+"]") {
			t.Errorf("the percent-encoded key is not replaced with fingerprint %s:\n%s", fp, b)
		}
	}
}

// logKeysRequests is how many requests logKeys sends.
const logKeysRequests = 9

// logKeys sends requests carrying every kind of key in headers, query and
// body, and one the upstream refuses echoing the key, through a Caddy
// whose access log and DEBUG log of every logger use format. With
// log_credentials, Caddy logs even the headers it would hide itself:
// every secret reaches the encoder. It returns the two log files, flushed.
func logKeys(t *testing.T, format string) (access, debug string) {
	t.Helper()
	dir := t.TempDir()
	access, debug = filepath.Join(dir, "access.log"), filepath.Join(dir, "debug.log")
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global(fmt.Sprintf(`
	servers {
		log_credentials
	}
	log everything {
		output file %s
		format %s
		level DEBUG
	}`, debug, format))+fmt.Sprintf(`
%s {
	log {
		output file %s
		format %s
	}
	llm_cache
	reverse_proxy %s
}
`, site, access, format, up.URL()))

	key := func(i int) string { return testKeys[i].prefix + testKeys[i].secret }
	requests := []struct {
		path, body string
		header     []string
	}{
		{"/v1/chat/completions", chatBody, []string{"Authorization", "Bearer " + key(0)}},
		{"/v1/messages", `{"model":"claude-3-5-haiku","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, []string{"X-Api-Key", key(1), "Anthropic-Version", "2023-06-01"}},
		{"/v1/chat/completions?api-version=2024-06-01", chatBody, []string{"Api-Key", key(2)}},
		{"/v1beta/models/gemini:generateContent?key=" + key(3), `{"contents":[]}`, []string{"X-Goog-Api-Key", key(3)}},
		{"/v1/chat/completions?api_key=" + key(4), `{"model":"m","messages":[{"role":"user","content":"my key is ` + key(0) + `"}]}`, []string{"Authorization", "Bearer " + key(4)}},
		// The upstream refuses and echoes the key in its error.
		{"/v1/chat/completions", strings.Replace(chatBody, "hi", "refuse me", 1), []string{"Authorization", "Bearer " + key(0), "x-fake-status", "401", "x-fake-echo-key", "1"}},
		{"/v1/chat/completions", chatBody, []string{"X-Team-Token", "gw_abcdefgh"}},
		// Azure API Management, X-Auth-Token, ?token=, ?access_token=,
		// a Groq key in a header of no credential name.
		{"/v1/chat/completions?access_token=" + key(7) + "&token=" + key(6), chatBody,
			[]string{"Ocp-Apim-Subscription-Key", key(5), "x-auth-token", key(6), "X-Groq", key(8)}},
		// A key percent-encoded in the URI, the same in a cookie.
		{"/v1/chat/completions?k=" + strings.ReplaceAll(key(9), "-", "%2D"), chatBody, []string{"Cookie", "session=" + key(9)}},
	}
	if len(requests) != logKeysRequests {
		t.Fatalf("%d requests, logKeysRequests says %d", len(requests), logKeysRequests)
	}
	for _, r := range requests {
		post(t, site+r.path, r.body, r.header...)
	}
	// Reload to an empty config: the log files are flushed and closed.
	testcaddy.Load(t, testcaddy.Global("")+testcaddy.Site(t)+" {\n\trespond ok\n}\n")
	return access, debug
}

// TestRedactCaddyLogsControl: the same requests with format json put every
// key in the logs (the encoded one as sent), so TestRedactCaddyLogs finding none means redaction
// removed them.
func TestRedactCaddyLogsControl(t *testing.T) {
	access, debug := logKeys(t, "json")
	a, _ := os.ReadFile(access)
	d, _ := os.ReadFile(debug)
	for _, k := range allKeys {
		if !strings.Contains(string(a)+string(d), k.secret) {
			t.Errorf("the %s key is in no plain log line: the redaction test would not see it leak", k.name)
		}
	}
}

func TestRedactFieldFilter(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "access.log")
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`
%s {
	log {
		output file %s
		format filter {
			request>headers>X-Api-Key llm_redact
			request>uri llm_redact
		}
	}
	respond ok
}
`, site, logFile))
	anthropic, google := testKeys[1].prefix+testKeys[1].secret, testKeys[3].prefix+testKeys[3].secret
	post(t, site+"/v1beta/models?key="+google, "{}", "X-Api-Key", anthropic)
	testcaddy.Load(t, testcaddy.Global("")+testcaddy.Site(t)+" {\n\trespond ok\n}\n")

	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(b))
	if !json.Valid([]byte(line)) {
		t.Fatalf("not JSON: %s", line)
	}
	for _, want := range []string{`"uri":"/v1beta/models?key=AIza[REDACTED:`, `"X-Api-Key":["sk-ant-api03-[REDACTED:`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, testKeys[1].secret[:12]) || strings.Contains(line, testKeys[3].secret[:12]) {
		t.Errorf("a key leaks: %s", line)
	}
}

// TestRedactLoadWarning: a config whose llm handlers run beside a log
// that does not scrub keys gets one warning at load per such logger, the
// first time and on a reload; with every log wrapped in llm_redact, none.
func TestRedactLoadWarning(t *testing.T) {
	const warning = "run beside a logger that does not redact API keys"
	up := fakeai.Start(t)
	// load loads a config of two sites with llm handlers, then the same
	// with another limit (a real reload), and returns the default log.
	load := func(defaultFormat string) string {
		t.Helper()
		file := filepath.Join(t.TempDir(), "default.log")
		sites := []string{testcaddy.Site(t), testcaddy.Site(t)}
		for _, limit := range []string{"10/s", "20/s"} {
			cfg := testcaddy.GlobalLog(fmt.Sprintf("output file %s\n\t\tformat %s\n\t\tlevel WARN", file, defaultFormat), "")
			for _, site := range sites {
				cfg += fmt.Sprintf(`
%s {
	log {
		output file %s
		format llm_redact
	}
	llm_ratelimit {
		zone z {
			requests %s
		}
	}
	llm_cache
	reverse_proxy %s
}
`, site, filepath.Join(t.TempDir(), "access.log"), limit, up.URL())
			}
			testcaddy.Load(t, cfg)
		}
		testcaddy.Load(t, testcaddy.Global("")+testcaddy.Site(t)+" {\n\trespond ok\n}\n")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	plain := load("json")
	var loggers []string
	for _, line := range strings.Split(plain, "\n") {
		if strings.Contains(line, warning) {
			var entry struct {
				RequestLogger string `json:"request_logger"`
			}
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatal(err)
			}
			loggers = append(loggers, entry.RequestLogger)
		}
	}
	// Per load: both sites' error loggers, reverse_proxy's, and the bare
	// error and access loggers, which take requests for hosts the sites
	// do not name.
	want := []string{"http.handlers.reverse_proxy", "http.log.access", "http.log.error", "http.log.error.log0", "http.log.error.log1"}
	if got, want := strings.Join(loggers, " "), strings.Join(append(want, want...), " "); got != want {
		t.Errorf("warnings for\n%s\nwant (one load and one reload)\n%s\n%s", got, want, plain)
	}

	if wrapped := load("llm_redact"); strings.Contains(wrapped, warning) {
		t.Errorf("warning with every log wrapped:\n%s", wrapped)
	}
}
