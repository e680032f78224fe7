package llmgate_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// TestReliabilityTenantIsolation sends one and the same prompt from 100
// credentials, 20 times each, all mixed together and many in flight at
// once, with coalescing on (the default) and a slow upstream so identical
// requests overlap. Half the credentials stream. Every answer names the
// upstream call that produced it ("chatcmpl-fake-<n>"); the fake records
// the credential of each call, so every answer a client gets must come
// from a call made with its own credential.
func TestReliabilityTenantIsolation(t *testing.T) {
	const tenants, repeats, parallel = 100, 20, 64
	up := fakeai.Start(t)
	up.SetRecordLimit(tenants * repeats)
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_cache {\n\t\tmax_size %d\n\t}\n\treverse_proxy %s\n}\n",
		site, 64<<20+103, up.URL()))
	prompt := "the same question for everyone at " + site
	cred := func(i int) string { return fmt.Sprintf("Bearer sk-tenant-%03d-%s", i, site) }
	body := func(i int) string {
		if i%2 == 1 {
			return `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`
		}
		return `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + prompt + `"}]}`
	}
	order := make([]int, 0, tenants*repeats)
	for i := range tenants {
		for range repeats {
			order = append(order, i)
		}
	}
	rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })

	type got struct {
		tenant int
		a      relAnswer
	}
	answers := make(chan got, len(order))
	work := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range work {
				answers <- got{i, relDo(site+"/v1/chat/completions", body(i), "Authorization", cred(i), "x-fake-delay", "20ms")}
			}
		})
	}
	for _, i := range order {
		work <- i
	}
	close(work)
	wg.Wait()
	close(answers)

	calls := up.Requests() // calls[n-1] is upstream call n
	callID := regexp.MustCompile(`chatcmpl-fake-(\d+)`)
	hits := 0
	for g := range answers {
		if g.a.err != nil || g.a.status != 200 {
			t.Fatalf("tenant %d: %d %v", g.tenant, g.a.status, g.a.err)
		}
		ids := callID.FindAllStringSubmatch(g.a.body, -1)
		if len(ids) == 0 {
			t.Fatalf("tenant %d: an answer without a call id: %.200s", g.tenant, g.a.body)
		}
		for _, id := range ids {
			n, _ := strconv.Atoi(id[1])
			if n < 1 || n > len(calls) {
				t.Fatalf("tenant %d: call %d of %d recorded", g.tenant, n, len(calls))
			}
			if owner := calls[n-1].Header.Get("Authorization"); owner != cred(g.tenant) {
				t.Fatalf("tenant %d got the answer of call %d, made for %q", g.tenant, n, owner)
			}
		}
		if g.a.header.Get("Cache-Status") != "llmgate; fwd=miss" {
			hits++
		}
	}
	// Each tenant needs at least one call of its own; the rest are hits or
	// shares of a call in flight.
	if len(calls) < tenants || hits == 0 {
		t.Errorf("%d upstream calls and %d answers served without a call of their own, for %d requests", len(calls), hits, len(order))
	}
	t.Logf("%d requests, %d upstream calls, %d answered from the cache or a shared call", len(order), len(calls), hits)
}
