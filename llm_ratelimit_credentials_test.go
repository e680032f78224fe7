package llmgate_test

import (
	"fmt"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

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
