package llmgate_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// relHeap is the live heap: bytes allocated and still reachable after a
// full collection. The Caddy under test runs in this process, so its
// stores and buffers are counted.
func relHeap() (alloc, inuse int64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.HeapInuse)
}

// relAnswers is how many distinct ~4 KiB answers the memory-bound test
// stores: about 25 times what max_size holds, or 8 times under the race
// detector (which runs at about 1,100 requests a second here against
// 3,500 without), to keep the test near 15 s.
func relAnswers() int {
	if relRace {
		return 16000
	}
	return 50000
}

// TestReliabilityCacheMemoryBound fills a 32 MiB cache with far more
// distinct ~4 KiB answers than it holds. The store's own count stays
// within max_size, and the live heap does not grow with the entries,
// which are held off it: it grows by 24 MiB at most (the store's index
// and the noise of a running Caddy).
func TestReliabilityCacheMemoryBound(t *testing.T) {
	const maxSize = 32 << 20
	up := fakeai.Start(t)
	up.SetRecordLimit(0) // the fake's own records would count as heap
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf("%s {\n\tllm_cache {\n\t\tmax_size 32MiB\n\t}\n\treverse_proxy %s\n}\n", site, up.URL()))
	load := newRelLoad(t, site, 4096)
	run := load.run
	// Warm up (connections, pools) without storing, then measure from a
	// settled heap and an empty store.
	run(-500, 0, "Cache-Control", "no-store")
	load.hc.CloseIdleConnections()
	baseAlloc, baseInuse := relHeap()
	start := time.Now()
	run(0, relAnswers())
	elapsed := time.Since(start)
	load.hc.CloseIdleConnections()
	alloc, inuse := relHeap()
	entries, bytes := relStore(t, maxSize)
	if n := load.failed.Load(); n != 0 {
		t.Errorf("%d requests failed", n)
	}
	if bytes > maxSize {
		t.Errorf("store counts %d bytes, over max_size %d", bytes, maxSize)
	}
	growth := alloc - baseAlloc
	t.Logf("%d answers in %s: store %d entries, %d bytes; live heap %+.1f MiB (in use %+.1f MiB), %.1f MiB over what the store counts",
		relAnswers(), elapsed.Round(time.Millisecond), entries, bytes, mib(growth), mib(inuse-baseInuse), mib(growth-bytes))
	if limit := int64(24 << 20); growth > limit {
		t.Errorf("live heap grew %.1f MiB, over 24 MiB", mib(growth))
	}
	if entries < 100 {
		t.Errorf("store holds %d entries: the bound was met by storing nothing", entries)
	}
}

// TestCacheProcessMemoryBound fills a Caddy process's default 256MiB
// memory cache a few times over with distinct 32 KiB answers. With no
// GOMEMLIMIT, the process's peak resident memory stays within 1.5 ×
// max_size + 100 MB: the entries are held off the Go heap, so the heap
// does not grow to twice what the cache holds, as it did under GOGC
// alone (680 MiB here when the entries were on the heap).
func TestCacheProcessMemoryBound(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Setenv("GOMEMLIMIT", "") // the operator's choice is not what is tested
	}
	const maxSize = 256 << 20
	up := fakeai.Start(t)
	up.SetRecordLimit(0)
	site, admin := testcaddy.Site(t), testcaddy.Site(t)
	global := strings.Replace(processGlobal, "admin off", "admin "+strings.TrimPrefix(admin, "http://"), 1)
	proc := testcaddy.Process(t, global+fmt.Sprintf("%s {\n\tllm_cache\n\treverse_proxy %s\n}\n", site, up.URL()), site)
	const answers = 24000 // ~750 MB of answers, ~3 times what the store holds
	load := newRelLoad(t, site, 32768)
	load.run(0, answers)
	if n := load.failed.Load(); n != 0 {
		t.Fatalf("%d requests failed", n)
	}
	entries, bytes := relStoreAt(t, admin, maxSize)
	peak := proc.PeakRSS(t)
	t.Logf("%d answers: store %d entries, %.1f MiB; peak RSS %.1f MiB", answers, entries, mib(bytes), mib(peak))
	if bytes < maxSize*3/4 {
		t.Fatalf("the store holds %.1f MiB of %d MiB: it was never full", mib(bytes), maxSize>>20)
	}
	if bound := int64(maxSize*3/2 + 100e6); peak > bound {
		t.Errorf("peak RSS %.1f MiB, over 1.5 × max_size + 100 MB (%.1f MiB)", mib(peak), mib(bound))
	}
}

// relLoad sends distinct chat requests to a site, answered with size
// bytes each, and counts those that fail.
type relLoad struct {
	site, size string
	hc         *http.Client
	failed     atomic.Int64
}

func newRelLoad(t *testing.T, site string, size int) *relLoad {
	l := &relLoad{site: site, size: strconv.Itoa(size),
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	t.Cleanup(l.hc.CloseIdleConnections)
	return l
}

// send sends request i, with the headers given as name, value pairs.
func (l *relLoad) send(i int, header ...string) {
	req, _ := http.NewRequest(http.MethodPost, l.site+"/v1/chat/completions",
		strings.NewReader(fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"answer %d at %s"}]}`, i, l.site)))
	req.Header.Set("Authorization", "Bearer sk-test-memory")
	req.Header.Set("x-fake-size", l.size)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		l.failed.Add(1)
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		l.failed.Add(1)
	}
}

// run sends the requests after from and before to, 8 at a time.
func (l *relLoad) run(from, to int, header ...string) {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)); i < to; i = int(next.Add(1)) {
				l.send(i, header...)
			}
		})
	}
	wg.Wait()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// relBody generates a JSON chat body of about n bytes without holding it,
// and hashes what it gave.
type relBody struct {
	io.Reader
	sum hash.Hash
}

func newRelBody(n int64) *relBody {
	const head, tail = `{"model":"m","messages":[{"role":"user","content":"`, `"}]}`
	b := &relBody{sum: sha256.New()}
	b.Reader = io.TeeReader(io.MultiReader(strings.NewReader(head), io.LimitReader(letters{}, n), strings.NewReader(tail)), b.sum)
	return b
}

// letters is an endless stream of a–z.
type letters struct{}

func (letters) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return len(p), nil
}

// TestReliabilityLargeBodyStreamsThrough sends a 100 MiB body through
// llm_cache (max_body 1MiB) and llm_ratelimit with a zone matched by
// llm_model (max_body 32MiB): the upstream gets every byte, and the live
// heap never holds more than a little of it. The upstream stops reading
// halfway so the heap is measured while the body is in flight. (A token
// zone refuses such a body: it cannot count it.)
func TestReliabilityLargeBodyStreamsThrough(t *testing.T) {
	const size = 100 << 20
	paused, release := make(chan struct{}), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.New()
		n, err := io.Copy(sum, io.LimitReader(r.Body, size/2))
		if err == nil {
			close(paused)
			<-release
			var m int64
			m, err = io.Copy(sum, r.Body)
			n += m
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"bytes": n, "sha256": hex.EncodeToString(sum.Sum(nil)), "error": fmt.Sprint(err)})
	}))
	t.Cleanup(upstream.Close)
	site := testcaddy.Site(t)
	testcaddy.Load(t, testcaddy.Global("")+fmt.Sprintf(`
%s {
	llm_ratelimit {
		zone %s {
			match llm_model gpt-*
			requests 1000/m
		}
	}
	llm_cache {
		max_body 1MiB
	}
	reverse_proxy %s
}
`, site, relName(t, "large"), upstream.URL))

	body := newRelBody(size)
	req, _ := http.NewRequest(http.MethodPost, site+"/v1/chat/completions", body)
	req.ContentLength = size + 55 // head and tail
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test-large-"+site)
	base, _ := relHeap()
	type result struct {
		resp *http.Response
		got  []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := harness.Client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{resp, b, err}
	}()
	select {
	case <-paused:
	case r := <-done:
		t.Fatalf("answered before the upstream read half the body: %v %s", r.err, r.got)
	}
	mid, _ := relHeap()
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	end, _ := relHeap()
	var got struct {
		Bytes  int64  `json:"bytes"`
		SHA256 string `json:"sha256"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(r.got, &got); err != nil {
		t.Fatalf("%d %s", r.resp.StatusCode, r.got)
	}
	if want := hex.EncodeToString(body.sum.Sum(nil)); got.Bytes != req.ContentLength || got.SHA256 != want {
		t.Errorf("upstream got %d bytes (sha256 %s, %s), want %d (%s)", got.Bytes, got.SHA256, got.Error, req.ContentLength, want)
	}
	if cs := r.resp.Header.Get("Cache-Status"); cs != "llmgate; fwd=bypass; detail=too-large" {
		t.Errorf("Cache-Status %q", cs)
	}
	t.Logf("live heap growth: %.2f MiB with half of the body through, %.2f MiB after", mib(mid-base), mib(end-base))
	for _, g := range []int64{mid - base, end - base} {
		if g > 10<<20 {
			t.Errorf("live heap grew %.1f MiB while a 100 MiB body passed: it is being held", mib(g))
		}
	}
}
