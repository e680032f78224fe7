package llmgate_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

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
			if got := as("AIzaSy-tenant-A").Header.Get("Cache-Status"); got != "llmgate; fwd=miss" {
				t.Fatalf("tenant A: Cache-Status %q", got)
			}
			if got := as("not-a-key").Header.Get("Cache-Status"); got != "llmgate; fwd=miss" {
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
