package llmgate_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
)

// rawUpstream records every request as it reached the upstream, raw query
// and body included, and answers with answer (fakeai's behaviour when
// answer returns false).
type rawUpstream struct {
	*keyedUpstream
	mu   sync.Mutex
	seen []seenRequest
}

// seenRequest is one request as the upstream received it.
type seenRequest struct {
	path, rawQuery, body string
	header               http.Header
}

func startRaw(t *testing.T, answer func(r *http.Request, w http.ResponseWriter) bool) *rawUpstream {
	u := &rawUpstream{keyedUpstream: startKeyed(t, nil)}
	u.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{r.URL.Path, r.URL.RawQuery, string(body), r.Header.Clone()})
		u.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if answer == nil || !answer(r, w) {
			u.fake.Handler().ServeHTTP(w, r)
		}
	})
	return u
}

func (u *rawUpstream) requests() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.seen...)
}

// TestProviderStripsEveryKeySpelling: a caller's key reaches the upstream
// in no spelling the limiter reads as a key (the query parameter in any
// case or percent-encoding) and in no other credential header; the
// provider's key is the only one, and the rest of the query passes.
func TestProviderStripsEveryKeySpelling(t *testing.T) {
	for _, tc := range []struct{ auth, want string }{
		{"bearer", ""},
		{"query", "key=sk-provider"},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			up := startRaw(t, nil)
			site := providerSite(t, up.keyedUpstream, "auth "+tc.auth+" sk-provider")
			resp, body := post(t, site+"/v1/chat/completions?KEY=caller-upper&Key=caller-mixed&%6Bey=caller-encoded&key=caller-plain&keep=1",
				promptBody("spellings"), "Authorization", "Bearer caller-bearer", "Proxy-Authorization", "Basic caller-proxy",
				"X-Goog-Api-Key", "caller-google")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			seen := up.requests()
			if len(seen) != 1 {
				t.Fatalf("%d requests upstream, want 1", len(seen))
			}
			got := seen[0]
			for name, vs := range got.header {
				for _, v := range vs {
					if strings.Contains(v, "caller-") {
						t.Errorf("the upstream got the caller's %s: %q", name, v)
					}
				}
			}
			if strings.Contains(got.rawQuery, "caller-") || !strings.Contains(got.rawQuery, "keep=1") {
				t.Errorf("query upstream %q: want keep=1 and no caller key", got.rawQuery)
			}
			if tc.want != "" && strings.Count(strings.ToLower(got.rawQuery), "key=") != 1 {
				t.Errorf("query upstream %q: want exactly one key, %s", got.rawQuery, tc.want)
			}
		})
	}
}

// TestProviderAbsurdRetryAfter: whatever a 429 says of its wait, the key
// sits out at least a second (no retry loop on "0" or a date passed) and
// at most a day, and a huge number of seconds is a day, not an overflow.
func TestProviderAbsurdRetryAfter(t *testing.T) {
	second, day := int64(1000), int64(24*time.Hour/time.Millisecond)
	for _, tc := range []struct {
		name     string
		header   []string
		min, max int64 // the key's cooldown in ms, as retry-after-ms tells it
	}{
		{"zero", []string{"Retry-After", "0"}, second - 100, second},
		{"negative", []string{"Retry-After", "-5"}, second - 100, second},
		{"not a number", []string{"Retry-After", "soon"}, second - 100, second},
		{"a date passed", []string{"Retry-After", "Mon, 02 Jan 2006 15:04:05 GMT"}, second - 100, second},
		{"ms not a number", []string{"Retry-After-Ms", "NaN"}, second - 100, second},
		{"ms negative", []string{"Retry-After-Ms", "-1"}, second - 100, second},
		{"ms infinite", []string{"Retry-After-Ms", "+Inf"}, second - 100, second},
		{"a day and more", []string{"Retry-After", "100000"}, day - 5000, day},
		{"past int64 nanoseconds", []string{"Retry-After", "10000000000"}, day - 5000, day},
		{"past int64", []string{"Retry-After", "99999999999999999999"}, day - 5000, day},
		{"ms a day and more", []string{"Retry-After-Ms", "1e12"}, day - 5000, day},
		{"a reset beyond reason", []string{"X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "2000h"}, day - 5000, day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
				for i := 0; i+1 < len(tc.header); i += 2 {
					w.Header().Set(tc.header[i], tc.header[i+1])
				}
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
				return true
			})
			site := providerSite(t, up.keyedUpstream, "auth bearer sk-only")
			resp, body := post(t, site+"/v1/chat/completions", promptBody("absurd"))
			ms, _ := strconv.ParseInt(resp.Header.Get("Retry-After-Ms"), 10, 64)
			if resp.StatusCode != 429 || ms < tc.min || ms > tc.max {
				t.Errorf("%d retry-after-ms %d (%s): want 429 and a cooldown of %d to %d ms", resp.StatusCode, ms, body, tc.min, tc.max)
			}
			if n := len(up.requests()); n != 1 {
				t.Errorf("the upstream was asked %d times, want once: the key sits out", n)
			}
		})
	}
}

// TestProviderRetrySendsTheSameBody: a retried request carries, byte for
// byte, the body of its first attempt, a large one and one the limiter
// rewrote (to ask for a stream's usage) included.
func TestProviderRetrySendsTheSameBody(t *testing.T) {
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		if providerKey(r) == "sk-broken" {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`%s {
	llm_ratelimit {
		zone %s {
			tokens 10000000/h
		}
	}
	llm_provider {
		auth bearer sk-broken sk-good
		select round_robin
	}
	reverse_proxy %s
}
`, site, relName(t, "replay"), up.srv.URL))
	big := strings.Repeat("lorem ipsum ", 200_000) // 2.4 MB
	for _, body := range []string{
		promptBody(big),
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"usage asked for"}]}`,
	} {
		before := len(up.requests())
		// Round robin: within two requests one starts on the broken key.
		for range 2 {
			if resp, b, _ := send(t, site+"/v1/chat/completions", body); resp.StatusCode != 200 {
				t.Fatalf("%d %.200s", resp.StatusCode, b)
			}
		}
		seen := up.requests()[before:]
		broken := 0
		for _, s := range seen {
			if providerKey(&http.Request{Header: s.header}) == "sk-broken" {
				broken++
			}
			if s.body != seen[0].body {
				t.Errorf("attempts sent bodies of %d and %d bytes: a retry must send what the first did", len(s.body), len(seen[0].body))
			}
		}
		if broken == 0 || len(seen) != 2+broken {
			t.Fatalf("%d attempts, %d on the broken key: want every broken one retried", len(seen), broken)
		}
	}
}

// TestProviderEveryKeyRefused: when the provider answers 401 for every
// key, the refusal is the request's (a restricted key's missing scope,
// or a path none may use): the client gets 502 provider_key_refused,
// never the provider's body, which may repeat the key; no key leaves the
// pool, so once the provider takes them again requests are served.
func TestProviderEveryKeyRefused(t *testing.T) {
	secrets := []string{"sk-revoked-aaaaaaaaaaaaaaaaaaaa", "sk-revoked-bbbbbbbbbbbbbbbbbbbb", "sk-revoked-cccccccccccccccccccc"}
	var accept atomic.Bool
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		if accept.Load() {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided: `+providerKey(r)+`","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		return true
	})
	logFile := filepath.Join(t.TempDir(), "debug.log")
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.GlobalLog(fmt.Sprintf("output file %s\n\t\tlevel DEBUG\n\t\tformat llm_redact", logFile), "")+
		fmt.Sprintf("%s {\n\tllm_provider {\n\t\tauth x-api-key %s\n\t}\n\treverse_proxy %s\n}\n", site, strings.Join(secrets, " "), up.srv.URL))
	for i := range 3 {
		resp, body := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("refused ", i)))
		for _, s := range secrets {
			if strings.Contains(body, s) || strings.Contains(fmt.Sprint(resp.Header), s) {
				t.Errorf("answer %d carries a provider key: %v %s", i, resp.Header, body)
			}
		}
		if resp.StatusCode != 502 || !strings.Contains(body, "provider_key_refused") {
			t.Errorf("with every key refused: %d %s, want 502 provider_key_refused", resp.StatusCode, body)
		}
	}
	accept.Store(true)
	if resp, body := post(t, site+"/v1/chat/completions", promptBody("accepted again")); resp.StatusCode != 200 {
		t.Errorf("once the provider takes the keys again: %d %s, want 200: no key may leave the pool", resp.StatusCode, body)
	}
	b, _ := os.ReadFile(logFile)
	for _, s := range secrets {
		if strings.Contains(string(b), s) || strings.Contains(string(b), strings.TrimPrefix(s, "sk-")) {
			t.Errorf("the debug log holds a provider key")
		}
	}
}

// TestProviderBadKeyRevoked: a key the provider refuses (401) where
// another key serves the same request leaves the pool, logged by its
// fingerprint: asked once, never again.
func TestProviderBadKeyRevoked(t *testing.T) {
	up := startKeyed(t, func(key string, n int, w http.ResponseWriter) bool {
		if key != "sk-bad" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided: sk-bad","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		return true
	})
	site := providerSite(t, up, "auth bearer sk-good sk-bad\nselect round_robin")
	for i := range 10 {
		if resp, body := post(t, site+"/v1/chat/completions", promptBody(fmt.Sprint("revoke ", i))); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := up.callsOf("sk-bad"); n != 1 {
		t.Errorf("the refused key was asked %d times, want once", n)
	}
}

// TestProviderNoHangWhenCallerLeaves: a request waiting (max_wait) for a
// key to come back ends when its client leaves, long before max_wait,
// and never reaches the upstream afterwards.
func TestProviderNoHangWhenCallerLeaves(t *testing.T) {
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		limited(w, 60_000)
		return true
	})
	logFile := filepath.Join(t.TempDir(), "access.log")
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tlog {\n\t\toutput file %s\n\t}\n\tllm_provider {\n\t\tauth bearer sk-a\n\t\tmax_wait 2m\n\t}\n\treverse_proxy %s\n}\n",
		site, logFile, up.srv.URL))
	// max_tries 3, one key: the first 429 is learnt, and the request
	// waits for the key. Its client leaves after 300 ms.
	client := &http.Client{Timeout: 300 * time.Millisecond}
	req, _ := harness.NewPost(t.Context(), site+"/v1/chat/completions", promptBody("then leave"), "Authorization", "Bearer sk-caller")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d while the only key sat out for a minute", resp.StatusCode)
	}
	// The access log line is written when the handler returns.
	harness.Eventually(t, "the abandoned request to end", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "\n") == 1
	})
	if n := len(up.requests()); n != 1 {
		t.Errorf("the upstream was asked %d times, want once", n)
	}
}

// TestProviderRedisHoldsNoKey: what llm_provider shares through Redis (the
// stored cooldowns and the messages told) names keys by fingerprint only.
func TestProviderRedisHoldsNoKey(t *testing.T) {
	const secret = "sk-proj-SharedCooldownT3BlbkFJabcdefghij0123456789"
	rs := testredis.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { rdb.Close() })
	sub := rdb.PSubscribe(t.Context(), "*")
	t.Cleanup(func() { sub.Close() })
	if _, err := sub.Receive(t.Context()); err != nil {
		t.Fatal(err)
	}
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		limited(w, 60_000)
		return true
	})
	site := providerSite(t, up.keyedUpstream, "auth bearer "+secret+"\nstorage redis "+rs.URL())
	post(t, site+"/v1/chat/completions", promptBody("cool it"))
	var msg *redis.Message
	select {
	case msg = <-sub.Channel():
	case <-time.After(10 * time.Second):
		t.Fatal("no cooldown told")
	}
	shared := []string{msg.Channel, msg.Payload}
	keys, err := rdb.Keys(t.Context(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v: want the stored cooldown", keys, err)
	}
	for _, k := range keys {
		v, _ := rdb.Get(t.Context(), k).Result()
		shared = append(shared, k, v)
	}
	for _, s := range shared {
		if strings.Contains(s, secret[8:]) {
			t.Errorf("Redis holds the provider key: %q", s)
		}
	}
}

// TestProviderCallerCannotRevokeKeys: a refusal that depends on what the
// caller asked (a path the keys may not use: OpenAI answers 403, or 401
// for a restricted key's missing scope) says nothing of the key. A caller
// who asks for it once a key must not empty the pool for everybody.
func TestProviderCallerCannotRevokeKeys(t *testing.T) {
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		if !strings.HasPrefix(r.URL.Path, "/v1/organization/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"message":"You have insufficient permissions for this operation.","type":"invalid_request_error","param":null,"code":null}}`)
		return true
	})
	site := providerSite(t, up.keyedUpstream, "auth bearer sk-a sk-b sk-c")
	for i := range 3 {
		resp, _ := post(t, site+"/v1/organization/users", "{}")
		if resp.StatusCode != 403 {
			t.Errorf("request %d for a forbidden path: %d, want the provider's 403", i, resp.StatusCode)
		}
	}
	if resp, body := post(t, site+"/v1/chat/completions", promptBody("after the forbidden path")); resp.StatusCode != 200 {
		t.Errorf("a plain request after three forbidden ones: %d %s, want 200", resp.StatusCode, body)
	}
}

// TestProviderAuthNoneWithoutKeys: auth none takes no key; the handler
// still strips the caller's credentials and serves, sending none.
func TestProviderAuthNoneWithoutKeys(t *testing.T) {
	up := startRaw(t, nil)
	site := providerSite(t, up.keyedUpstream, "auth none")
	resp, body := post(t, site+"/v1/chat/completions", promptBody("no key"), "Authorization", "Bearer caller-key")
	if resp.StatusCode != 200 {
		t.Fatalf("auth none: %d %s", resp.StatusCode, body)
	}
	if seen := up.requests(); len(seen) != 1 || seen[0].header.Get("Authorization") != "" {
		t.Errorf("the upstream got %d requests, Authorization %q: want one, without", len(seen), seen[0].header.Get("Authorization"))
	}
}

// TestProviderKeyNotEchoedToCaller: a provider that repeats the key it
// was sent in its 401 (OpenAI masks all but the last four characters;
// some compatible servers repeat it whole) must not hand the provider's
// key to the caller.
func TestProviderKeyNotEchoedToCaller(t *testing.T) {
	const secret = "sk-proj-EchoedBackT3BlbkFJabcdefghij0123456789"
	up := startRaw(t, nil)
	site := providerSite(t, up.keyedUpstream, "auth bearer "+secret)
	resp, body := post(t, site+"/v1/chat/completions", promptBody("echo"), "x-fake-status", "401", "x-fake-echo-key", "1")
	if strings.Contains(body, secret[8:]) || resp.StatusCode != 502 || !strings.Contains(body, "provider_key_refused") {
		t.Errorf("a provider 401: %d %s, want llmgate's 502 provider_key_refused and no key", resp.StatusCode, body)
	}
}

// TestProviderCallerCannotRevokeKeysWith401: OpenAI answers 401 to a
// restricted key asked for a scope it lacks: a refusal of the request,
// which every key gets. A caller asking for it again and again must not
// empty the pool for everybody.
func TestProviderCallerCannotRevokeKeysWith401(t *testing.T) {
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		if !strings.HasPrefix(r.URL.Path, "/v1/organization/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"You have insufficient permissions for this operation. Missing scopes: api.management.read.","type":"invalid_request_error","param":null,"code":null}}`)
		return true
	})
	site := providerSite(t, up.keyedUpstream, "auth bearer sk-a sk-b sk-c")
	for i := range 3 {
		if resp, body := post(t, site+"/v1/organization/users", "{}"); resp.StatusCode != 502 || !strings.Contains(body, "provider_key_refused") {
			t.Errorf("request %d for a path no key may use: %d %s, want 502 provider_key_refused", i, resp.StatusCode, body)
		}
	}
	if resp, body := post(t, site+"/v1/chat/completions", promptBody("after the forbidden path")); resp.StatusCode != 200 {
		t.Errorf("a plain request after three refused ones: %d %s, want 200", resp.StatusCode, body)
	}
}

// TestProviderOversizedRequestCoolsNoKey: OpenAI answers a request larger
// than a key's tokens-per-minute limit 429 ("Request too large … on tokens
// per min"), though the key has tokens left. That 429 is the request's,
// not the key's: one caller sending it must not take every key out for
// the others.
func TestProviderOversizedRequestCoolsNoKey(t *testing.T) {
	up := startRaw(t, func(r *http.Request, w http.ResponseWriter) bool {
		w.Header().Set("X-Ratelimit-Limit-Tokens", "30000")
		w.Header().Set("X-Ratelimit-Remaining-Tokens", "29000")
		w.Header().Set("X-Ratelimit-Reset-Tokens", "2s")
		if r.Header.Get("X-Size") != "huge" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Request too large for gpt-4o-mini on tokens per min (TPM): Limit 30000, Requested 500000.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`)
		return true
	})
	site := providerSite(t, up.keyedUpstream, "auth bearer sk-a sk-b sk-c")
	if resp, _ := post(t, site+"/v1/chat/completions", promptBody("huge"), "X-Size", "huge"); resp.StatusCode != 429 {
		t.Errorf("the oversized request: %d, want the provider's 429", resp.StatusCode)
	}
	if resp, body := post(t, site+"/v1/chat/completions", promptBody("another caller")); resp.StatusCode != 200 {
		t.Errorf("another caller right after: %d %s, want 200", resp.StatusCode, body)
	}
}
