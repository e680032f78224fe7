package llmgate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/openai/openai-go/v3/option"
)

func TestCacheSDKRepeatIsHit(t *testing.T) {
	site, up := cacheSite(t, "")
	c := sdk(site, "sk-test-alice-"+site)
	ctx := context.Background()

	var first, second *http.Response
	a, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini", "hello"), option.WithResponseInto(&first))
	if err != nil {
		t.Fatal(err)
	}
	// Sent at once after the first answer completed: the stored entry
	// must already be visible.
	b, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini", "hello"), option.WithResponseInto(&second))
	if err != nil {
		t.Fatal(err)
	}
	if got := up.Calls(); got != 1 {
		t.Fatalf("upstream calls = %d, want 1", got)
	}
	if a.RawJSON() != b.RawJSON() {
		t.Fatalf("hit body differs:\n%s\n%s", a.RawJSON(), b.RawJSON())
	}
	if a.Choices[0].Message.Content != b.Choices[0].Message.Content || a.Usage.TotalTokens != b.Usage.TotalTokens {
		t.Fatal("SDK parsed the hit differently")
	}
	if got := first.Header.Get("Cache-Status"); got != "llmgate; fwd=miss" {
		t.Errorf("miss Cache-Status = %q", got)
	}
	if got := second.Header.Get("Cache-Status"); !strings.HasPrefix(got, "llmgate; hit; ttl=") {
		t.Errorf("hit Cache-Status = %q", got)
	}
	if second.Header.Get("Age") == "" {
		t.Error("hit has no Age header")
	}
}

func TestCacheKeying(t *testing.T) {
	site, up := cacheSite(t, "")
	const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi\nthere"}],"temperature":0.5}`
	resp, first := post(t, site+"/v1/chat/completions", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, first)
	}
	for _, tc := range []struct {
		name   string
		body   string
		header []string
		hit    bool
	}{
		{name: "identical", body: body, hit: true},
		{name: "reordered and spaced", hit: true,
			body: "{ \"temperature\" : 0.50,\n \"messages\":[{\"content\":\"hi\\u000athere\",\"role\":\"user\"}], \"model\":\"gpt-4o-mini\" }"},
		{name: "other credential", body: body, header: []string{"Authorization", "Bearer sk-test-bob-" + site}},
		{name: "anthropic credential", body: body, header: []string{"Authorization", "", "X-Api-Key", "sk-ant-test-" + site}},
		{name: "other model", body: strings.Replace(body, "gpt-4o-mini", "gpt-4o", 1)},
		{name: "other temperature", body: strings.Replace(body, "0.5", "0.51", 1)},
		{name: "other path", body: body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := up.Calls()
			url := site + "/v1/chat/completions"
			if tc.name == "other path" {
				url = site + "/v1/completions"
			}
			resp, got := post(t, url, tc.body, tc.header...)
			hit := up.Calls() == before
			if hit != tc.hit {
				t.Fatalf("hit = %v, want %v (Cache-Status %q)", hit, tc.hit, resp.Header.Get("Cache-Status"))
			}
			if tc.hit && got != first {
				t.Fatalf("hit answer differs:\n%s\n%s", got, first)
			}
		})
	}
}

func TestCacheRequestControls(t *testing.T) {
	site, up := cacheSite(t, "")
	const body = `{"model":"m","messages":[{"role":"user","content":"controls"}]}`
	post(t, site+"/v1/chat/completions", body)

	resp, _ := post(t, site+"/v1/chat/completions", body, "Cache-Control", "no-store")
	if up.Calls() != 2 || resp.Header.Get("Cache-Status") != "llmgate; fwd=bypass; detail=no-store" {
		t.Fatalf("no-store: calls %d, Cache-Status %q", up.Calls(), resp.Header.Get("Cache-Status"))
	}
	resp, fresh := post(t, site+"/v1/chat/completions", body, "Cache-Control", "no-cache")
	if up.Calls() != 3 || resp.Header.Get("Cache-Status") != "llmgate; fwd=request" {
		t.Fatalf("no-cache: calls %d, Cache-Status %q", up.Calls(), resp.Header.Get("Cache-Status"))
	}
	// no-cache stored the fresh answer: it replaced the first one.
	_, hit := post(t, site+"/v1/chat/completions", body)
	if up.Calls() != 3 || hit != fresh {
		t.Fatalf("after no-cache: calls %d, hit is the fresh answer: %v", up.Calls(), hit == fresh)
	}
	time.Sleep(1100 * time.Millisecond)
	resp, _ = post(t, site+"/v1/chat/completions", body, "Cache-Control", "max-age=0")
	if up.Calls() != 4 || resp.Header.Get("Cache-Status") != "llmgate; fwd=stale" {
		t.Fatalf("max-age=0: calls %d, Cache-Status %q", up.Calls(), resp.Header.Get("Cache-Status"))
	}
	resp, _ = post(t, site+"/v1/chat/completions", body, "Cache-Control", "max-age=60")
	if up.Calls() != 4 || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Fatalf("max-age=60: calls %d, Cache-Status %q", up.Calls(), resp.Header.Get("Cache-Status"))
	}
}

func TestCacheMalformedJSONReachesUpstream(t *testing.T) {
	site, up := cacheSite(t, "")
	const bad = `{"model":"gpt-4o-mini","messages":[}`
	for range 2 {
		resp, body := post(t, site+"/v1/chat/completions", bad)
		if resp.StatusCode != 400 || !strings.Contains(body, "invalid_request_error") {
			t.Fatalf("got %d %s, want the upstream's 400", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Status"); got != "llmgate; fwd=bypass; detail=not-json" {
			t.Fatalf("Cache-Status %q", got)
		}
	}
	reqs := up.Requests()
	if len(reqs) != 2 || string(reqs[0].Body) != bad {
		t.Fatalf("upstream saw %d requests, first body %q", len(reqs), reqs[0].Body)
	}
}

func TestCacheLargeBodyPassesIntact(t *testing.T) {
	site, up := cacheSite(t, "max_body 1MiB")
	var b bytes.Buffer
	b.WriteString(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"`)
	for b.Len() < 10<<20 {
		fmt.Fprintf(&b, "line %d of a long prompt. ", b.Len())
	}
	b.WriteString(`"}]}`)
	body := b.String()
	for i := range 2 {
		resp, answer := post(t, site+"/v1/chat/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %.200s", resp.StatusCode, answer)
		}
		if got := resp.Header.Get("Cache-Status"); got != "llmgate; fwd=bypass; detail=too-large" {
			t.Fatalf("Cache-Status %q", got)
		}
		if up.Calls() != i+1 {
			t.Fatalf("upstream calls %d, want %d: a large body must never be stored", up.Calls(), i+1)
		}
	}
	for _, r := range up.Requests() {
		if sha256.Sum256(r.Body) != sha256.Sum256([]byte(body)) {
			t.Fatalf("upstream got %d bytes, not the %d sent", len(r.Body), len(body))
		}
	}
}

func TestCacheStoresOnlyCompleteOKAnswers(t *testing.T) {
	site, up := cacheSite(t, "max_response 4KiB")
	for _, tc := range []struct {
		name   string
		header []string
		status int
	}{
		{name: "server error", header: []string{"x-fake-status", "500"}, status: 500},
		{name: "rate limited upstream", header: []string{"x-fake-status", "429", "x-fake-retry-after-ms", "1"}, status: 429},
		{name: "over max_response", header: []string{"x-fake-size", "8000"}, status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":%q}]}`, tc.name)
			for i := range 2 {
				before := up.Calls()
				resp, _ := post(t, site+"/v1/chat/completions", body, tc.header...)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				if up.Calls() != before+1 {
					t.Fatalf("request %d was answered from the cache", i)
				}
			}
		})
	}
	t.Run("upstream closes mid-answer", func(t *testing.T) {
		body := `{"model":"m","messages":[{"role":"user","content":"cut"}]}`
		for range 2 {
			before := up.Calls()
			req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("x-fake-die-after", "1")
			resp, err := harness.Client.Do(req)
			if err == nil {
				// The client sees the cut as an error reading the body.
				if _, err := io.ReadAll(resp.Body); err == nil {
					t.Fatal("a cut answer reached the client as complete")
				}
				resp.Body.Close()
			}
			if up.Calls() != before+1 {
				t.Fatal("a cut answer was stored")
			}
		}
	})
}

func TestCacheStoresIdentityForAnyClient(t *testing.T) {
	site, up := cacheSite(t, "")
	const body = `{"model":"m","messages":[{"role":"user","content":"gzip please"}]}`
	resp, first := post(t, site+"/v1/chat/completions", body, "Accept-Encoding", "gzip", "x-fake-gzip", "1")
	if resp.StatusCode != 200 || !strings.Contains(first, "gzip please") {
		t.Fatalf("status %d body %q", resp.StatusCode, first)
	}
	// A client that accepts no encoding gets the stored answer in plain JSON.
	resp, hit := post(t, site+"/v1/chat/completions", body, "Accept-Encoding", "identity")
	if up.Calls() != 1 || hit != first || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("calls %d, encoding %q, same body %v", up.Calls(), resp.Header.Get("Content-Encoding"), hit == first)
	}
}

func TestCacheTTL(t *testing.T) {
	site, up := cacheSite(t, "ttl 1h\n\t\tttl_model short-* 1s")
	long := `{"model":"long-model","messages":[{"role":"user","content":"x"}]}`
	short := `{"model":"short-model","messages":[{"role":"user","content":"x"}]}`
	post(t, site+"/v1/chat/completions", long)
	resp, _ := post(t, site+"/v1/chat/completions", short)
	if resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Fatalf("Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	time.Sleep(1200 * time.Millisecond)
	post(t, site+"/v1/chat/completions", long)
	post(t, site+"/v1/chat/completions", short)
	if got := up.CallsTo("/v1/chat/completions"); got != 3 {
		t.Fatalf("upstream calls %d, want 3 (the short-TTL entry expired, the long one did not)", got)
	}
}

func TestCacheScopes(t *testing.T) {
	// Scoped by something other than the credential, so the prompt names
	// the site to keep entries of earlier runs out.
	body := func(site string) string {
		return fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"scoped at %s"}]}`, site)
	}
	t.Run("shared", func(t *testing.T) {
		site, up := cacheSite(t, "scope shared")
		body := body(site)
		post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer sk-a")
		post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer sk-b")
		if up.Calls() != 1 {
			t.Fatalf("calls %d, want 1", up.Calls())
		}
	})
	t.Run("placeholder", func(t *testing.T) {
		site, up := cacheSite(t, "scope {http.request.header.X-Team}")
		body := body(site)
		post(t, site+"/v1/chat/completions", body, "X-Team", "red", "Authorization", "Bearer sk-a")
		post(t, site+"/v1/chat/completions", body, "X-Team", "red", "Authorization", "Bearer sk-b")
		post(t, site+"/v1/chat/completions", body, "X-Team", "blue", "Authorization", "Bearer sk-a")
		if up.Calls() != 2 {
			t.Fatalf("calls %d, want 2 (one per team)", up.Calls())
		}
	})
	t.Run("ignore_fields", func(t *testing.T) {
		site, up := cacheSite(t, "ignore_fields user metadata")
		post(t, site+"/v1/chat/completions", `{"model":"m","user":"u1","messages":[]}`)
		post(t, site+"/v1/chat/completions", `{"model":"m","user":"u2","metadata":{"a":1},"messages":[]}`)
		if up.Calls() != 1 {
			t.Fatalf("calls %d, want 1", up.Calls())
		}
	})
}

// TestCacheSitesApart: two sites of one Caddy share a memory store (the
// same max_size) and proxy the same path to different upstreams. The
// same request, credential and all, sent to each must reach each
// upstream: the host is part of the key.
func TestCacheSitesApart(t *testing.T) {
	upA, upB := fakeai.Start(t), fakeai.Start(t)
	siteA, siteB := testcaddy.Site(t), testcaddy.Site(t)
	block := func(site, upstream string) string {
		return fmt.Sprintf("%s {\n\tllm_cache {\n\t\tscope shared\n\t}\n\treverse_proxy %s\n}\n", site, upstream)
	}
	testcaddy.Load(t, testcaddy.Global("")+block(siteA, upA.URL())+block(siteB, upB.URL()))
	body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"one question, two sites at %s"}]}`, siteA)
	for _, site := range []string{siteA, siteB, siteA, siteB} {
		post(t, site+"/v1/chat/completions", body, "Authorization", "Bearer sk-same")
	}
	if upA.Calls() != 1 || upB.Calls() != 1 {
		t.Fatalf("upstream calls %d and %d, want 1 each: a site was answered from the other's entry", upA.Calls(), upB.Calls())
	}
}

func TestCacheBypassesOtherRequests(t *testing.T) {
	site, up := cacheSite(t, "")
	for range 2 {
		resp, _ := post(t, site+"/v1/files", `{"model":"m"}`)
		if resp.Header.Get("Cache-Status") != "llmgate; fwd=bypass; detail=path" {
			t.Fatalf("Cache-Status %q", resp.Header.Get("Cache-Status"))
		}
		req, _ := http.NewRequest(http.MethodGet, site+"/v1/chat/completions", nil)
		resp, err := harness.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Status") != "llmgate; fwd=bypass; detail=method" {
			t.Fatalf("Cache-Status %q", resp.Header.Get("Cache-Status"))
		}
	}
	if up.Calls() != 4 {
		t.Fatalf("upstream calls %d, want 4", up.Calls())
	}
}

func TestCacheEntriesSurviveReload(t *testing.T) {
	up := fakeai.Start(t)
	site := testcaddy.Site(t)
	config := func(ttl string) string {
		return testcaddy.Global("") + fmt.Sprintf("%s {\n\tllm_cache {\n\t\tttl %s\n\t}\n\treverse_proxy %s\n}\n", site, ttl, up.URL())
	}
	testcaddy.Load(t, config("1h"))
	const body = `{"model":"m","messages":[{"role":"user","content":"reload"}]}`
	_, first := post(t, site+"/v1/chat/completions", body)
	// A real reload, with a changed config, through the admin API.
	testcaddy.Load(t, config("2h"))
	// The old server closes its idle keep-alive connections as it shuts
	// down; a POST sent on one in that instant fails with EOF and is not
	// retried by net/http. This test is about the entries, so start fresh.
	harness.Client.CloseIdleConnections()
	resp, again := post(t, site+"/v1/chat/completions", body)
	if up.Calls() != 1 || again != first {
		t.Fatalf("after reload: calls %d, Cache-Status %q", up.Calls(), resp.Header.Get("Cache-Status"))
	}
}

// TestCacheAnswerLargerThanTheStoreIsNotClaimedStored: an answer the
// memory store cannot hold (2 MB, over the 1 MiB an entry of a 32 MiB store
// may take) is passed on
// without "stored" in its Cache-Status or the metric, and the next
// identical request goes upstream; an answer that fits is stored as usual.
func TestCacheAnswerLargerThanTheStoreIsNotClaimedStored(t *testing.T) {
	const maxSize = 32<<20 + 7 // a size of its own, for relStore
	site, up := cacheSite(t, fmt.Sprintf("max_size %d", maxSize))
	big := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"big %s"}]}`, site)
	stored := func() float64 { return testcaddy.Metrics(t)[`llmgate_cache_requests_total{result="stored"}`] }
	before := stored()
	for i := range 2 {
		resp, body := post(t, site+"/v1/chat/completions", big, "x-fake-size", "2000000")
		if resp.StatusCode != 200 || len(body) < 2000000 {
			t.Fatalf("big answer %d: %d, %d bytes", i, resp.StatusCode, len(body))
		}
		if cs := resp.Header.Get("Cache-Status"); cs != "llmgate; fwd=miss" {
			t.Errorf("big answer %d: Cache-Status %q, want %q: the store cannot hold it", i, cs, "llmgate; fwd=miss")
		}
	}
	if up.Calls() != 2 {
		t.Errorf("upstream calls %d, want 2", up.Calls())
	}
	if got := stored() - before; got != 0 {
		t.Errorf("stored counter rose by %v for answers that were not stored", got)
	}
	if entries, _ := relStore(t, maxSize); entries != 0 {
		t.Errorf("store holds %d entries, want 0", entries)
	}
	small := strings.Replace(big, "big", "small", 1)
	if resp, _ := post(t, site+"/v1/chat/completions", small); resp.Header.Get("Cache-Status") != "llmgate; fwd=miss" {
		t.Fatalf("small answer: Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	if resp, _ := post(t, site+"/v1/chat/completions", small); !strings.HasPrefix(resp.Header.Get("Cache-Status"), "llmgate; hit") {
		t.Fatalf("small answer again: Cache-Status %q, want a hit", resp.Header.Get("Cache-Status"))
	}
	if got := stored() - before; got != 1 {
		t.Errorf("stored counter rose by %v, want 1", got)
	}
}

// TestCacheMemorySizeRefusedInJSON: a JSON config, as the admin API takes
// it, with a memory store or a local tier under 32MiB fails to load and
// names its option, as the Caddyfile does at adapt time; the config
// running before keeps serving.
func TestCacheMemorySizeRefusedInJSON(t *testing.T) {
	rs := testredis.Start(t)
	site, _ := cacheSite(t, "")
	for _, tt := range []struct{ option, storage string }{
		{"max_size", ""},
		{"local", "storage redis " + rs.URL()},
	} {
		cfg, err := testcaddy.Adapt(testcaddy.Global("") + fmt.Sprintf("%s {\n\tllm_cache {\n\t\t%s\n\t\t%s 32MiB\n\t}\n\treverse_proxy 127.0.0.1:1\n}\n", testcaddy.Site(t), tt.storage, tt.option))
		if err != nil {
			t.Fatal(err)
		}
		field := fmt.Sprintf(`"%s":%d`, tt.option, 32<<20)
		if !bytes.Contains(cfg, []byte(field)) {
			t.Fatalf("adapted config has no %s:\n%s", field, cfg)
		}
		small := bytes.Replace(cfg, []byte(field), fmt.Appendf(nil, `"%s":%d`, tt.option, 8<<20), 1)
		if err := testcaddy.LoadJSONErr(small); err == nil || !strings.Contains(err.Error(), tt.option+": must be at least 32MiB, got 8388608 bytes") {
			t.Errorf("%s 8MiB in JSON: %v, want it refused, naming the option", tt.option, err)
		}
		if resp, _ := post(t, site+"/v1/chat/completions", chatBody); resp.StatusCode != http.StatusOK {
			t.Errorf("after the refused %s config, the running one answers %d", tt.option, resp.StatusCode)
		}
	}
}
