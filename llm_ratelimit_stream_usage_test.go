package llmgate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/sse"
	"github.com/llmgate/caddy-llmgate/usage"
)

// TestTokensAskStreamsForUsage: a chat completion stream that did not ask
// for its usage is asked for it upstream, so a token zone charges what it
// really cost, and the client gets the stream it asked for, without the
// usage chunk, on a miss and on a cache hit alike. A client that asked
// for the usage gets it; with stream_usage off nothing is asked.
func TestTokensAskStreamsForUsage(t *testing.T) {
	site, up, config, lastTokens := usageLogSite(t, "\tllm_cache")
	testcaddy.Load(t, config(""))
	const prompt = `"messages":[{"role":"user","content":"stream usage %s"}]`
	chunks := func(body string) (usageChunks, events int, done bool) {
		var p sse.Parser
		p.Feed([]byte(body))
		p.End()
		for ev, ok := p.Next(); ok; ev, ok = p.Next() {
			events++
			if usage.IsUsageChunk(ev.Data) {
				usageChunks++
			}
			done = done || string(ev.Data) == "[DONE]"
		}
		return usageChunks, events, done
	}
	for _, tc := range []struct {
		name, body string
		asked      bool // the upstream was asked for the usage
		seen       int  // usage chunks the client gets
		tokens     string
	}{
		{"not asked", `{"model":"gpt-4o-mini","stream":true,` + fmt.Sprintf(prompt, "a") + `}`, true, 0, "42"},
		{"hit", `{"model":"gpt-4o-mini","stream":true,` + fmt.Sprintf(prompt, "a") + `}`, false, 0, ""},
		{"asked by the client", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},` + fmt.Sprintf(prompt, "b") + `}`, true, 1, "42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := up.Calls()
			resp, body := post(t, site+"/v1/chat/completions", tc.body, "x-fake-usage", "30,12")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if n, events, done := chunks(body); n != tc.seen || !done || events < 3 {
				t.Errorf("the client got %d usage chunks in %d events (done %v), want %d:\n%s", n, events, done, tc.seen, body)
			}
			if tc.name == "hit" {
				if up.Calls() != calls || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
					t.Fatalf("not a hit: %v", resp.Header)
				}
				return
			}
			recs := up.Requests()
			sent := string(recs[len(recs)-1].Body)
			if strings.Contains(sent, `"include_usage":true`) != tc.asked || strings.Count(sent, "stream_options") != 1 {
				t.Errorf("the upstream got %s", sent)
			}
			if got := lastTokens(); got != tc.tokens {
				t.Errorf("charged %s tokens, want %s (reported)", got, tc.tokens)
			}
		})
	}

	t.Run("stream_usage off", func(t *testing.T) {
		testcaddy.Load(t, config("stream_usage off"))
		body := `{"model":"gpt-4o-mini","stream":true,` + fmt.Sprintf(prompt, "c") + `}`
		resp, got := post(t, site+"/v1/chat/completions", body, "x-fake-usage", "30,12")
		if n, _, done := chunks(got); resp.StatusCode != 200 || n != 0 || !done {
			t.Fatalf("%d, %d usage chunks:\n%s", resp.StatusCode, n, got)
		}
		recs := up.Requests()
		if sent := string(recs[len(recs)-1].Body); sent != body {
			t.Errorf("the upstream got %s, want the body as sent", sent)
		}
		if got := lastTokens(); got == "42" || got == "" {
			t.Errorf("charged %s tokens: want an estimate", got)
		}
	})
}

// TestTokensStreamOptOutIsCharged: a chat completion stream whose
// stream_options leaves the usage out (include_usage false, {}, null) is
// asked for it all the same, so a token zone charges what it cost (a
// reasoning model's hidden tokens, an image's), and the client gets no
// usage chunk, as it asked; otherwise any caller pays by visible text.
func TestTokensStreamOptOutIsCharged(t *testing.T) {
	site, _, load, lastTokens := usageLogSite(t, "")
	testcaddy.Load(t, load(""))
	for _, options := range []string{`{"include_usage":false}`, `{}`, `null`, `{"include_obfuscation":false}`} {
		t.Run(options, func(t *testing.T) {
			body := `{"model":"o3","stream":true,"stream_options":` + options + `,"messages":[{"role":"user","content":"opt out"}]}`
			resp, got := post(t, site+"/v1/chat/completions", body, "x-fake-usage", "30,5000")
			if resp.StatusCode != 200 || strings.Contains(got, `"usage":{`) {
				t.Fatalf("%d, the client got a usage chunk:\n%s", resp.StatusCode, got)
			}
			if tokens := lastTokens(); tokens != "5030" {
				t.Errorf("charged %s tokens, want the 5030 the upstream spent", tokens)
			}
		})
	}
}

// usageLogSite makes a site whose access log records the tokens each
// request was charged: a token zone of its own (and the llm_ratelimit
// option given to load), then the directives after, then a fake upstream.
// load returns the config, for testcaddy.Load; lastTokens reads the
// charge of the last request logged.
func usageLogSite(t *testing.T, after string) (site string, up *fakeai.Server, load func(option string) string, lastTokens func() string) {
	t.Helper()
	up = fakeai.Start(t)
	site = testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "access.log")
	zone := harness.FreePort(t)
	load = func(option string) string {
		return testcaddy.Global("") + fmt.Sprintf(`%s {
	log {
		output file %s
	}
	log_append tokens {http.llm.usage.total_tokens}
	llm_ratelimit {
		zone stream_usage_%d {
			tokens 1000000/m
		}
		%s
	}
%s
	reverse_proxy %s
}
`, site, logFile, zone, option, after, up.URL())
	}
	lastTokens = func() string {
		b, _ := os.ReadFile(logFile)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var entry struct {
			Tokens json.Number `json:"tokens"`
		}
		_ = json.Unmarshal([]byte(lines[len(lines)-1]), &entry)
		return entry.Tokens.String()
	}
	return site, up, load, lastTokens
}

// A token zone asks a stream for its usage by rewriting its body. The
// access log's {http.llm.model} still names the request's model, whatever
// reads the body after the rewrite: the cache, or nothing.
func TestModelPlaceholderAfterStreamUsageRewrite(t *testing.T) {
	zone := "llm_ratelimit {\n zone %s {\n key static\n tokens 1000000/m\n }\n }"
	for name, handlers := range map[string]string{
		"limit only":       zone,
		"cache then limit": "llm_cache\n " + zone,
		"limit then cache": zone + "\n llm_cache",
	} {
		t.Run(name, func(t *testing.T) {
			logFile := filepath.Join(t.TempDir(), "access.log")
			site, _ := proxySite(t, fmt.Sprintf(`
	log {
		output file %s
	}
	log_append model {http.llm.model}
	route {
		`+handlers+`
	}`, logFile, relName(t, "z")))
			body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"` + name + `"}]}`
			if resp, got := post(t, site+"/v1/chat/completions", body); resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, got)
			}
			var model *string
			harness.Eventually(t, "an access log line", func() bool {
				b, _ := os.ReadFile(logFile)
				for line := range strings.Lines(string(b)) {
					var e struct{ Model *string }
					if json.Unmarshal([]byte(line), &e) == nil {
						model = e.Model
						return true
					}
				}
				return false
			})
			if model == nil || *model != "gpt-4o-mini" {
				got := "<absent>"
				if model != nil {
					got = *model
				}
				t.Errorf("{http.llm.model} = %q, want gpt-4o-mini", got)
			}
		})
	}
}
