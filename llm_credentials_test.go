package llmgate_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// assertConflictRefused checks the answer to a request with two different
// credentials: 400 in OpenAI's error shape.
func assertConflictRefused(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
	}
	if e := parseOpenAIError(t, resp, body); e.Type != "invalid_request_error" || e.Code != "conflicting_credentials" ||
		!strings.Contains(e.Message, "two different credentials") {
		t.Fatalf("refusal body %s", body)
	}
}

// TestCacheScopeKeyIsolatesEveryCredential: under scope key, a tenant's
// answer is never a hit for a caller whose key, in any of the places an
// API takes one, differs.
func TestCacheScopeKeyIsolatesEveryCredential(t *testing.T) {
	site, up := cacheSite(t, "")
	for _, place := range []string{"X-Goog-Api-Key", "?key=", "X-Api-Key", "Api-Key"} {
		t.Run(place, func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"the tenant's question in %s at %s"}]}`, place, site)
			as := func(key string) *http.Response {
				url, header := site+"/v1/chat/completions", []string{place, key}
				if place == "?key=" {
					url, header = url+"?key="+key, nil
				}
				resp, _ := harness.Post(t, url, body, header...)
				return resp
			}
			up.Reset()
			if got := as("AIzaSy-tenant-A").Header.Get("Cache-Status"); got != "llmgate; fwd=miss; stored" {
				t.Fatalf("tenant A: Cache-Status %q", got)
			}
			if got := as("not-a-key").Header.Get("Cache-Status"); got != "llmgate; fwd=miss; stored" {
				t.Fatalf("another key got %q: tenant A's answer was shared", got)
			}
			if got := as("AIzaSy-tenant-A").Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit") {
				t.Fatalf("tenant A again: Cache-Status %q", got)
			}
			if up.Calls() != 2 {
				t.Fatalf("upstream calls %d, want 2", up.Calls())
			}
		})
	}
}

// TestCacheScopeKeyWithoutCredentialBypasses: a request without a
// credential is nobody's, and its answer nobody's to share; scope shared
// still shares it.
func TestCacheScopeKeyWithoutCredentialBypasses(t *testing.T) {
	body := func(site string) string {
		return fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"asked by nobody at %s"}]}`, site)
	}
	site, up := cacheSite(t, "scope key")
	for _, header := range [][]string{
		nil,
		{"Authorization", "Bearer "},
		{"Authorization", "", "X-Api-Key", " "},
		{"Cookie", "session=tenant-a", "X-Client-Cert", "tenant-a"},
	} {
		resp, _ := harness.Post(t, site+"/v1/chat/completions", body(site), header...)
		if got := resp.Header.Get("Cache-Status"); got != "llmgate; fwd=bypass; detail=no-credential" || resp.StatusCode != 200 {
			t.Fatalf("%q: %d, Cache-Status %q", header, resp.StatusCode, got)
		}
	}
	if up.Calls() != 4 {
		t.Fatalf("upstream calls %d, want 4", up.Calls())
	}

	site, up = cacheSite(t, "scope shared")
	harness.Post(t, site+"/v1/chat/completions", body(site))
	resp, _ := harness.Post(t, site+"/v1/chat/completions", body(site))
	if got := resp.Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit") || up.Calls() != 1 {
		t.Fatalf("scope shared: Cache-Status %q, upstream calls %d", got, up.Calls())
	}
}

// TestCacheScopeKeyOneKeyManySpellings: one key is one partition however
// the caller spells it.
func TestCacheScopeKeyOneKeyManySpellings(t *testing.T) {
	site, up := cacheSite(t, "")
	key := "sk-proj-spelt-" + site
	body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"one key, many spellings at %s"}]}`, site)
	harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer "+key)
	for _, header := range [][]string{
		{"Authorization", "bearer " + key},
		{"Authorization", "BEARER  " + key},
		{"Authorization", "Bearer\t" + key},
		{"Authorization", "Bearer " + key, "Authorization", "bearer " + key},
		{"X-Api-Key", key},
		{"Authorization", "Bearer " + key, "X-Api-Key", key},
	} {
		resp, _ := harness.Post(t, site+"/v1/chat/completions", body, header...)
		if got := resp.Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit") {
			t.Errorf("%q: Cache-Status %q, want a hit", header, got)
		}
	}
	if up.Calls() != 1 {
		t.Fatalf("upstream calls %d, want 1", up.Calls())
	}
}

// TestCacheRefusesConflictingCredentials: two different keys in one
// request are answered 400, before any lookup or upstream call: neither
// key's entries are read.
func TestCacheRefusesConflictingCredentials(t *testing.T) {
	site, up := cacheSite(t, "")
	body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"whose question at %s"}]}`, site)
	harness.Post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer sk-a-"+site)
	for _, header := range [][]string{
		{"Authorization", "Bearer sk-a-" + site, "Authorization", "Bearer sk-b-" + site},
		{"Authorization", "Bearer sk-a-" + site, "X-Api-Key", "sk-b-" + site},
		{"X-Goog-Api-Key", "sk-a-" + site, "Api-Key", "sk-b-" + site},
	} {
		resp, b := harness.Post(t, site+"/v1/chat/completions", body, header...)
		assertConflictRefused(t, resp, b)
	}
	if up.Calls() != 1 {
		t.Fatalf("upstream calls %d, want 1", up.Calls())
	}
}

// TestRateLimitDefaultKeyOneKeyManySpellings: Bearer, bearer, BEARER and
// extra spaces are one key's one bucket; another key has its own.
func TestRateLimitDefaultKeyOneKeyManySpellings(t *testing.T) {
	site, up := limitSite(t, fmt.Sprintf("zone spelt_%d { \n requests 3/h \n }", harness.FreePort(t)))
	key := "sk-proj-spelt-" + site
	for i, header := range [][]string{
		{"Authorization", "Bearer " + key},
		{"Authorization", "bearer  " + key},
		{"Authorization", "BEARER\t" + key},
		{"X-Api-Key", key},
		{"Authorization", "Bearer " + key, "Authorization", "Bearer  " + key},
	} {
		resp, b := harness.Post(t, site+"/v1/chat/completions", chatBody, header...)
		if want := map[bool]int{true: 200, false: 429}[i < 3]; resp.StatusCode != want {
			t.Fatalf("request %d %q: %d, want %d: %s", i+1, header, resp.StatusCode, want, b)
		}
	}
	if resp, b := harness.Post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-other-"+site); resp.StatusCode != 200 {
		t.Fatalf("another key: %d %s", resp.StatusCode, b)
	}
	if up.Calls() != 4 {
		t.Fatalf("upstream calls %d, want 4", up.Calls())
	}
}

// TestRateLimitRefusesConflictingCredentials: a request with two
// different credentials is refused and counted nowhere, so varying a
// second credential beside a good one opens no bucket.
func TestRateLimitRefusesConflictingCredentials(t *testing.T) {
	n := harness.FreePort(t)
	site, up := limitSite(t, fmt.Sprintf("zone caller_%d { \n requests 1/h \n }\nzone all_%d { \n key static \n requests 2/h \n }", n, n))
	good := "Bearer sk-good-" + site
	for i, header := range [][]string{
		{"Authorization", good, "Authorization", "Bearer fresh-1"},
		{"Authorization", good, "X-Api-Key", "fresh-2"},
		{"Authorization", good, "Api-Key", "fresh-3"},
		{"X-Api-Key", "fresh-4", "X-Goog-Api-Key", "fresh-5"},
	} {
		resp, b := harness.Post(t, site+"/v1/chat/completions", chatBody, header...)
		assertConflictRefused(t, resp, b)
		if i == 0 {
			resp, b = harness.Post(t, site+"/v1/chat/completions?key=fresh-6", chatBody, "Authorization", good)
			assertConflictRefused(t, resp, b)
		}
	}
	if up.Calls() != 0 {
		t.Fatalf("upstream calls %d, want 0", up.Calls())
	}
	// Nothing was counted: the good key and the static zone have all
	// their room.
	for i, want := range []int{200, 429} {
		resp, b := harness.Post(t, site+"/v1/chat/completions", chatBody, "Authorization", good)
		if resp.StatusCode != want {
			t.Fatalf("good key, request %d: %d, want %d: %s", i+1, resp.StatusCode, want, b)
		}
	}
	if resp, b := harness.Post(t, site+"/v1/chat/completions", chatBody, "Authorization", "Bearer sk-other-"+site); resp.StatusCode != 200 {
		t.Fatalf("the static zone counted refused requests: %d %s", resp.StatusCode, b)
	}
}

// TestRateLimitDefaultKeyGoogleKeys: Google's keys (x-goog-api-key or
// ?key=, percent-encoded or not) key buckets of their own rather than
// the one of callers without a key.
func TestRateLimitDefaultKeyGoogleKeys(t *testing.T) {
	site, _ := limitSite(t, fmt.Sprintf("zone google_%d { \n requests 1/h \n }", harness.FreePort(t)))
	url := site + "/v1/chat/completions"
	for i, tc := range []struct {
		query  string
		header []string
		want   int
	}{
		{"?key=AIzaSy-A", nil, 200},
		{"?key=AIzaSy-B", nil, 200},
		{"", []string{"X-Goog-Api-Key", "AIzaSy-C"}, 200},
		{"?alt=sse&KEY=AIzaSy%2DA", nil, 429},
		{"", []string{"X-Goog-Api-Key", "AIzaSy-B"}, 429},
		{"?key=AIzaSy-C&key=AIzaSy-C", []string{"X-Goog-Api-Key", " AIzaSy-C"}, 429},
	} {
		resp, b := harness.Post(t, url+tc.query, chatBody, tc.header...)
		if resp.StatusCode != tc.want {
			t.Fatalf("request %d (%s %q): %d, want %d: %s", i+1, tc.query, tc.header, resp.StatusCode, tc.want, b)
		}
	}
}
