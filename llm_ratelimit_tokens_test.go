package llmgate_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// tokenSite is a site whose only zone limits tokens per caller.
func tokenSite(t *testing.T, rate, extra string) (site string, up *fakeai.Server) {
	t.Helper()
	return limitSite(t, fmt.Sprintf("zone tok_%d { \n tokens %s \n }\n%s", harness.FreePort(t), rate, extra))
}

// ask sends a chat completion (a stream with usage when stream is set)
// whose answer reports usage "prompt,completion" ("" for none), and
// returns the status, the tokens remaining after its reservation, and the
// body.
func ask(t *testing.T, site, path, prompt string, stream bool, fakeUsage string, header ...string) (int, int, string) {
	t.Helper()
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + prompt + `"}]}`
	switch {
	case path == "/v1/messages":
		body = `{"model":"claude-3-5-haiku-latest","max_tokens":5,"stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	case stream:
		body = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"` + prompt + `"}]}`
	}
	if fakeUsage != "" {
		header = append(header, "x-fake-usage", fakeUsage)
	} else {
		header = append(header, "x-fake-no-usage", "1")
	}
	// Answers cut short by the upstream end in an error; what arrived is
	// enough.
	resp, b, _ := send(t, site+path, body, append([]string{"Authorization", "Bearer sk-tokens"}, header...)...)
	remaining, _ := strconv.Atoi(resp.Header.Get("X-Ratelimit-Remaining-Tokens"))
	return resp.StatusCode, remaining, b
}

// tokensLeft sends a small request that is never cached and returns the
// tokens its zone had left after its reservation.
func tokensLeft(t *testing.T, site string) int {
	t.Helper()
	s, rem, body := ask(t, site, "/v1/chat/completions", fmt.Sprintf("probe %d", time.Now().UnixNano()), false, "1,1")
	if s != 200 {
		t.Fatalf("probe: %d %s", s, body)
	}
	return rem
}

// TestTokensJSONUsageSettles: the usage of a JSON answer, in OpenAI's
// shape or Anthropic's, settles its reservation.
func TestTokensJSONUsageSettles(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"openai", "/v1/chat/completions"},
		{"anthropic", "/v1/messages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site, _ := tokenSite(t, "300/m", "")
			s1, _, _ := ask(t, site, tc.path, "one", false, "200,7")
			s2, rem2, _ := ask(t, site, tc.path, "two", false, "200,7")
			s3, _, body := ask(t, site, tc.path, "three", false, "200,7")
			if s1 != 200 || s2 != 200 || s3 != 429 {
				t.Fatalf("statuses %d %d %d, want 200 200 429", s1, s2, s3)
			}
			if tc.name != "openai" {
				return
			}
			// After the first answer settled at 207, 93 were left, less the
			// second's small reservation.
			if rem2 <= 0 || rem2 > 93 {
				t.Errorf("remaining after the second reservation %d, want in (0, 93]", rem2)
			}
			if !strings.Contains(body, `"type":"tokens"`) || !strings.Contains(body, "300 tokens per 1m0s") {
				t.Errorf("refusal %s", body)
			}
		})
	}
}

func TestTokensStreamUsageSettles(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"openai", "/v1/chat/completions"},
		{"anthropic", "/v1/messages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site, _ := tokenSite(t, "300/m", "")
			if s, _, body := ask(t, site, tc.path, "long stream", true, "400,7"); s != 200 || !strings.Contains(body, "data:") {
				t.Fatalf("stream: %d %s", s, body)
			}
			if s, _, _ := ask(t, site, tc.path, "next", false, "1,1"); s != 429 {
				t.Fatalf("after a 407-token stream: %d, want 429", s)
			}
		})
	}
}

func TestTokensStreamWithoutUsageIsEstimated(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	logFile := filepath.Join(t.TempDir(), "debug.log")
	testcaddy.Load(t, testcaddy.Global(fmt.Sprintf("log llm {\n\t\toutput file %s\n\t\tlevel DEBUG\n\t\tinclude http.handlers.llm_ratelimit\n\t}", logFile))+
		limitConfig(site, fmt.Sprintf("zone tok_%d {\n tokens 100/m \n }", harness.FreePort(t)), up))
	// About 2000 bytes of streamed text: some 500 tokens by estimate.
	if s, _, _ := ask(t, site, "/v1/chat/completions", "talk", true, "", "x-fake-size", "2000"); s != 200 {
		t.Fatalf("stream: %d", s)
	}
	if s, _, _ := ask(t, site, "/v1/chat/completions", "next", false, "1,1"); s != 429 {
		t.Fatalf("after a stream of ~500 estimated tokens: %d, want 429", s)
	}
	// The estimate is said at debug level.
	var line string
	harness.Eventually(t, "the debug line on the estimate", func() bool {
		b, _ := os.ReadFile(logFile)
		for l := range strings.Lines(string(b)) {
			if strings.Contains(l, "tokens charged by estimate") {
				line = l
				return true
			}
		}
		return false
	})
	if !strings.Contains(line, `"model":"gpt-4o-mini"`) || !strings.Contains(line, `"estimated_tokens":`) {
		t.Errorf("debug line %q lacks the model or the estimate", line)
	}
}

func TestTokensRefundsAndBadAnswers(t *testing.T) {
	site, _ := tokenSite(t, "1000/m", "")
	_, before, _ := ask(t, site, "/v1/chat/completions", "probe", false, "1,1")
	// An upstream error gives the reservation back.
	if s, _, _ := ask(t, site, "/v1/chat/completions", "fail", false, "500,500", "x-fake-status", "500"); s != 500 {
		t.Fatalf("upstream error: %d", s)
	}
	// A JSON answer cut short and a stream cut short: estimates charged,
	// nothing crashes or hangs.
	ask(t, site, "/v1/chat/completions", "cut json", false, "1,1", "x-fake-die-after", "10")
	ask(t, site, "/v1/chat/completions", "cut stream", true, "1,1", "x-fake-die-after", "2")
	s, after, _ := ask(t, site, "/v1/chat/completions", "probe again", false, "1,1")
	if s != 200 {
		t.Fatalf("after bad answers: %d", s)
	}
	// probe settled at 2; the error cost nothing; the cut answers cost
	// their small estimates.
	if spent := before - after; spent < 2 || spent > 100 {
		t.Errorf("spent %d tokens between the probes (%d → %d); the 1000-token error must not count", spent, before, after)
	}
}

// TestTokensStreamCutIsChargedWhatItStreamed: Caddy's reverse_proxy
// abandons a stream that breaks off by panicking with
// http.ErrAbortHandler. The limiter must still settle it, to the text
// that reached the client, or a client could read long answers for the
// price of a reservation by dropping each one before its usage chunk.
func TestTokensStreamCutIsChargedWhatItStreamed(t *testing.T) {
	site, _ := tokenSite(t, "1000000/m", "")
	_, before, _ := ask(t, site, "/v1/chat/completions", "probe", false, "1,1")
	// About 40,000 bytes in 10 events; the upstream dies after 6 of
	// them, so some 20,000 bytes (5,000 tokens) of text get through.
	ask(t, site, "/v1/chat/completions", "long cut stream", true, "",
		"x-fake-size", "40000", "x-fake-chunks", "10", "x-fake-die-after", "6")
	_, after, _ := ask(t, site, "/v1/chat/completions", "probe again", false, "1,1")
	if spent := before - after; spent < 4000 || spent > 7000 {
		t.Errorf("spent %d tokens between the probes (%d → %d), want about 5,000: what the cut stream streamed", spent, before, after)
	}
}

func TestTokensCacheHitIsFree(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`
%s {
	llm_ratelimit {
		zone tok_hit_%d {
			tokens 300/m
		}
	}
	llm_cache
	reverse_proxy %s
}
`, site, harness.FreePort(t), up.URL()))
	s1, _, _ := ask(t, site, "/v1/chat/completions", "same", false, "200,7")
	s2, _, _ := ask(t, site, "/v1/chat/completions", "same", false, "200,7")
	// Had the hit cost 207 tokens, the balance would be in debt now.
	s3, _, _ := ask(t, site, "/v1/chat/completions", "other", false, "1,1")
	if s1 != 200 || s2 != 200 || s3 != 200 || up.Calls() != 2 {
		t.Fatalf("statuses %d %d %d, upstream calls %d", s1, s2, s3, up.Calls())
	}
}

// TestTokensCoalescedCallIsChargedInFull: a leader starts a stream that
// reports 40,000 tokens, a follower joins it in flight, and the leader's
// client leaves. The upstream call goes on for the follower, so it costs
// its whole usage, charged to the leader; the follower's share is free, as
// a hit is. Were the leader charged only what reached its client, the pair
// would get a 40,000-token answer for a few tokens.
func TestTokensCoalescedCallIsChargedInFull(t *testing.T) {
	up := fakeai.Start(t)
	tp := newTap(t, up, 2) // the upstream holds its second event back
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`
%s {
	llm_ratelimit {
		zone tok_coalesce_%d {
			tokens 1000000/d
		}
	}
	llm_cache
	reverse_proxy %s
}
`, site, harness.FreePort(t), tp.srv.URL))
	before := tokensLeft(t, site) // a JSON answer is one write: the tap lets it pass

	const body = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"shared"}]}`
	start := func(ctx context.Context) (*http.Response, *bufio.Reader) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-tokens")
		req.Header.Set("x-fake-usage", "30000,10000")
		// Long enough that writes to a client that left fail.
		req.Header.Set("x-fake-size", "200000")
		req.Header.Set("x-fake-chunks", "50")
		resp, err := harness.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(resp.Body)
		if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
			t.Fatalf("first event: %q %v", line, err)
		}
		return resp, rd
	}
	leaderCtx, leave := context.WithCancel(context.Background())
	leader, _ := start(leaderCtx)
	follower, rest := start(context.Background())
	defer follower.Body.Close()
	if cs := follower.Header.Get("Cache-Status"); !strings.Contains(cs, "collapsed") {
		t.Fatalf("the second request did not join the first: Cache-Status %q", cs)
	}
	leave()
	leader.Body.Close()
	close(tp.release)
	all, err := io.ReadAll(rest)
	if err != nil || !strings.Contains(string(all), `"total_tokens":40000`) || !strings.Contains(string(all), "[DONE]") {
		t.Fatalf("the follower's stream: %v\n%s", err, all)
	}
	if n := up.CallsTo("/v1/chat/completions"); n != 2 { // the probe and the shared call
		t.Fatalf("upstream calls %d, want 2", n)
	}
	// The leader's request settles once the upstream call is over, which
	// may be a moment after the follower has read its end.
	var spent int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if spent = before - tokensLeft(t, site); spent >= 39000 {
			break
		}
	}
	// Each probe costs 2 tokens and the reservation of the next; the
	// bucket refills about 12 tokens a second.
	if spent < 39000 || spent > 41000 {
		t.Fatalf("the shared call cost %d tokens, want 40,000", spent)
	}
}

// TestTokensLargeStreamChargedByItsText: a streamed request of over 1 MiB
// whose answer reports no usage is charged its prompt, ~4 bytes a token,
// not nothing.
func TestTokensLargeStreamChargedByItsText(t *testing.T) {
	// Per hour: the refill between requests stays small (2,778 a second).
	site, _ := tokenSite(t, "10000000/h", "")
	_, before, _ := ask(t, site, "/v1/chat/completions", "probe", false, "1,1")
	// 1.6 MB of prompt: about 400,000 tokens.
	if s, _, _ := ask(t, site, "/v1/chat/completions", strings.Repeat("word ", 320000), true, ""); s != 200 {
		t.Fatalf("stream: %d", s)
	}
	_, after, _ := ask(t, site, "/v1/chat/completions", "probe again", false, "1,1")
	if spent := before - after; spent < 370000 || spent > 410000 {
		t.Errorf("spent %d tokens between the probes (%d → %d), want about 400,000: the large stream's prompt", spent, before, after)
	}
}

// TestTokensLargeJSONAnswerSettles: the usage at the end of a JSON answer
// of over 1 MiB is read as it passes, and settles the reservation exactly.
func TestTokensLargeJSONAnswerSettles(t *testing.T) {
	// Per hour: the refill between requests stays small.
	site, _ := tokenSite(t, "100000/h", "")
	s1, _, body := ask(t, site, "/v1/chat/completions", "long answer", false, "10,60000", "x-fake-size", fmt.Sprint(3<<20/2))
	if s1 != 200 || len(body) < 1<<20 {
		t.Fatalf("large answer: %d, %d bytes", s1, len(body))
	}
	// 60,010 spent: the next reservation finds 39,990 left, less its
	// own few tokens, plus what the bucket refilled since (28 a second).
	s2, rem, _ := ask(t, site, "/v1/chat/completions", "next", false, "1,1")
	if s2 != 200 || rem < 39980 || rem > 39990+300 {
		t.Errorf("after a 60,010-token answer of 1.5 MiB: %d, %d tokens left, want about 39,990", s2, rem)
	}
	s3, _, _ := ask(t, site, "/v1/chat/completions", "again", false, "10,60000", "x-fake-size", fmt.Sprint(3<<20/2))
	if s3 != 200 {
		t.Fatalf("second large answer: %d", s3)
	}
	if s4, _, _ := ask(t, site, "/v1/chat/completions", "over", false, "1,1"); s4 != 429 {
		t.Errorf("after 120,000 tokens in a 100,000/h zone: %d, want 429", s4)
	}
}

// TestTokensUnreadableBodyRefused: a body over the 32 MiB a token zone
// reads is refused in OpenAI's error shape before it costs anything, and
// never reaches the upstream; outside token zones it passes.
func TestTokensUnreadableBodyRefused(t *testing.T) {
	site, up := tokenSite(t, "1000000000/m", "")
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", 33<<20) + `"}]}`
	resp, b := post(t, site+"/v1/chat/completions", body)
	var e struct {
		Error struct {
			Message, Type, Code string
			Param               *string
		}
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal([]byte(b), &e) != nil ||
		e.Error.Type != "invalid_request_error" || e.Error.Code != "request_too_large" || !strings.Contains(e.Error.Message, "zone tok_") {
		t.Fatalf("%d %.300s", resp.StatusCode, b)
	}
	if up.Calls() != 0 {
		t.Fatalf("the upstream got %d calls", up.Calls())
	}
}

// A caller that accepts gzip (Go's, Python's and most HTTP clients do by
// default) gets the upstream's answer compressed; its usage must still
// be charged, not only the reservation's estimate.
func TestTokensGzipJSONAnswerSettles(t *testing.T) {
	site, _ := tokenSite(t, "300/m", "")
	gzip := []string{"Accept-Encoding", "gzip", "x-fake-gzip", "1"}
	s1, _, _ := ask(t, site, "/v1/chat/completions", "one", false, "200,7", gzip...)
	s2, _, _ := ask(t, site, "/v1/chat/completions", "two", false, "200,7", gzip...)
	s3, _, _ := ask(t, site, "/v1/chat/completions", "three", false, "200,7", gzip...)
	if s1 != 200 || s2 != 200 || s3 != 429 {
		t.Fatalf("statuses %d %d %d after two gzipped answers of 207 tokens in a 300/m zone, want 200 200 429", s1, s2, s3)
	}
}

// TestTokensJSONAnswerLeftEarlyIsCharged: a caller reads the first MiB
// of a 32 MiB JSON answer (whose usage, at its end, says 500,010 tokens)
// and leaves. The upstream generated the whole answer before its first
// byte, so it cost at least what reached the client; leaving before the
// usage must not leave only the prompt's few tokens charged.
func TestTokensJSONAnswerLeftEarlyIsCharged(t *testing.T) {
	// Per hour: the refill between requests stays small (2,778 a second).
	site, _ := tokenSite(t, "10000000/h", "")
	before := tokensLeft(t, site)

	ctx, leave := context.WithCancel(context.Background())
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a long answer"}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-tokens")
	req.Header.Set("x-fake-usage", "10,500000")
	req.Header.Set("x-fake-size", fmt.Sprint(32<<20))
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.CopyN(io.Discard, resp.Body, 1<<20); resp.StatusCode != 200 || err != nil {
		t.Fatalf("the answer: %d, %d bytes read, %v", resp.StatusCode, n, err)
	}
	leave()
	resp.Body.Close()

	// 1 MiB of the answer's text reached the client: some 262,000 tokens
	// at 4 bytes a token, and its usage says 500,010.
	var spent int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if spent = before - tokensLeft(t, site); spent >= 200000 {
			return
		}
	}
	t.Fatalf("a 500,010-token JSON answer left after its first MiB cost %d tokens, want at least 200,000", spent)
}

// TestTokensImageEstimatedPerImage: a request with a 1 MiB image reserves
// a fixed count for the image (1,600 tokens for Anthropic's), not its
// base64 bytes (some 260,000 tokens), so it does not empty a token bucket
// it would fit.
func TestTokensImageEstimatedPerImage(t *testing.T) {
	site, _ := tokenSite(t, "10000/m", "")
	resp, body := post(t, site+"/v1/messages", imageBody("claude-3-5-haiku-latest", 1<<20), "x-fake-usage", "1,1")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// The reservation: 1,600 for the image, a few for the text, 5 of output.
	left, _ := strconv.Atoi(resp.Header.Get("Anthropic-Ratelimit-Tokens-Remaining"))
	if left < 10000-1700 || left > 10000-1600 {
		t.Errorf("tokens left after the reservation %d, want about 10000 - 1600 - the text's", left)
	}
}

// TestTokensEmbeddingsAnswerSettles: the usage at the end of an
// embeddings answer of megabytes of floats, which reaches llm_ratelimit
// in pieces that cut numbers anywhere, settles its reservation.
func TestTokensEmbeddingsAnswerSettles(t *testing.T) {
	site, _ := tokenSite(t, "100000/h", "")
	inputs := make([]string, 64)
	for i := range inputs {
		inputs[i] = fmt.Sprintf("%q", fmt.Sprint("text ", i))
	}
	body := `{"model":"text-embedding-3-large","dimensions":3072,"input":[` + strings.Join(inputs, ",") + `]}`
	resp, answer, _ := send(t, site+"/v1/embeddings", body, "Authorization", "Bearer sk-tokens", "x-fake-usage", "5000,0")
	if resp.StatusCode != 200 || len(answer) < 1<<20 || !strings.HasSuffix(strings.TrimSpace(answer), `"total_tokens":5000}}`) {
		t.Fatalf("embeddings: %d, %d bytes, ending %q", resp.StatusCode, len(answer), answer[max(0, len(answer)-60):])
	}
	// 5,000 spent: a probe finds 95,000 left, less its own few tokens,
	// plus what the bucket refilled since (28 a second).
	if rem := tokensLeft(t, site); rem < 94990 || rem > 95000+300 {
		t.Errorf("after an embeddings answer of 5,000 tokens: %d tokens left, want about 95,000", rem)
	}
}
