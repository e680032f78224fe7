package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// wrkRounds is three rounds of one contender: rps[i] requests in one second
// each, the server using ticks[i] of CPU time, p50 and p99 in µs rising with
// the round.
func wrkRounds(scenario, name string, rps, ticks []int64) []wrkRun {
	var out []wrkRun
	for i, n := range rps {
		out = append(out, wrkRun{label: label{scenario, name}, Requests: n, DurationUS: 1e6,
			Non2xx: int64(i), P50US: 500 + int64(i)*100, P99US: 9000 + int64(i)*1000, CPUTicks: ticks[i]})
	}
	return out
}

// runRecords is the records of a whole run, shaped as run.sh makes them.
func runRecords() (wrks []wrkRun, heys []heyRun, rsses []rss, streams []stream) {
	// Each contender's req/s in its three rounds.
	rps := map[string]map[string][]int64{
		"hit":           {"hit": {45000, 46000, 44000}, "respond": {40000, 42000, 41000}, "proxy_cache": {69000, 70000, 68000}},
		"miss":          {"bare": {10000, 9000, 11000}, "cache": {8800, 8900, 9900}, "ratelimit": {9800, 9700, 9600}, "both": {8000, 8800, 9100}},
		"redis_limiter": {"rl_memory": {7500, 7600, 7400}, "rl_redis": {6000, 5900, 6100}},
		"redis_hit":     {"hit_memory": {36000, 35000, 37000}, "hit_redis": {18000, 17000, 19000}, "hit_local": {34000, 35000, 33000}},
		"access_log":    {"log_json": {25000, 25100, 24900}, "log_redact": {25200, 25300, 25100}},
	}
	// The server's CPU ticks in those rounds, each of 10 ms of CPU time: a
	// round's CPU µs per request is its ticks × 10,000 / its requests, here
	// hit 230, 200, 220; respond 310, 300, 290; proxy_cache 100, 110, 90;
	// bare 300, 310, 320; both 400, 425, 300.
	ticks := map[string]map[string][]int64{
		"hit":  {"hit": {1035, 920, 968}, "respond": {1240, 1260, 1189}, "proxy_cache": {690, 770, 612}},
		"miss": {"bare": {300, 279, 352}, "both": {320, 374, 273}},
	}
	for scenario, names := range rps {
		for name, rounds := range names {
			t := ticks[scenario][name]
			if t == nil { // 200 µs a request
				for _, n := range rounds {
					t = append(t, n/50)
				}
			}
			wrks = append(wrks, wrkRounds(scenario, name, rounds, t)...)
			rsses = append(rsses, rss{label: label{scenario, name}, KB: 72 * 1024})
		}
	}
	for _, c := range []struct {
		name  string
		depth int
		ok    []int
	}{
		{"limit", 1, []int{4661, 4650, 4700}},
		{"limit_req", 1, []int{4971, 4970, 4975}},
		{"limit10", 10, []int{5007, 5009, 5001}},
		{"limit_req10", 10, []int{5008, 5008, 5009}},
	} {
		for _, n := range c.ok {
			heys = append(heys, heyRun{label: label{"limit", c.name}, Depth: c.depth, Seconds: 10, Codes: map[int]int{200: n, 429: 200000}})
		}
		rsses = append(rsses, rss{label: label{"limit", c.name}, KB: 21 * 1024})
	}
	streams = []stream{
		{Name: "bare", Requests: 50, FirstP50MS: 3.142, FirstP99MS: 5.11, LastP50MS: 124.593, LastP99MS: 134.377, Events: 54, CacheStatus: "-"},
		{Name: "cache-miss", Requests: 50, FirstP50MS: 3.278, FirstP99MS: 4.046, LastP50MS: 125.526, LastP99MS: 135.235, Events: 54, CacheStatus: "llmgate; fwd=miss; stored"},
		{Name: "cache-hit", Requests: 50, FirstP50MS: 0.437, FirstP99MS: 0.785, LastP50MS: 0.457, LastP99MS: 0.817, Events: 54, CacheStatus: "llmgate; hit"},
		{Name: "ratelimit-tokens", Requests: 50, FirstP50MS: 4.191, FirstP99MS: 5.907, LastP50MS: 124.648, LastP99MS: 137.981, Events: 54, Failed: 1, CacheStatus: "-"},
	}
	for _, n := range []string{"s_bare", "s_cache", "s_tokens"} {
		rsses = append(rsses, rss{label: label{"stream", n}, KB: 64 * 1024})
	}
	rsses = append(rsses, rss{label: label{"redis", "redis"}, KB: 12 * 1024})
	return wrks, heys, rsses, streams
}

func TestReport(t *testing.T) {
	wrks, heys, rsses, streams := runRecords()
	r := &results{wrk: map[label][]wrkRun{}, hey: map[label][]heyRun{}, rss: map[label]int64{}, streams: map[string]stream{}}
	for _, w := range wrks {
		r.wrk[w.label] = append(r.wrk[w.label], w)
	}
	for _, h := range heys {
		r.hey[h.label] = append(r.hey[h.label], h)
	}
	for _, m := range rsses {
		r.rss[m.label] = m.KB
	}
	for _, s := range streams {
		r.streams[s.Name] = s
	}
	rep, err := newReport(run{LimitRate: 500, LimitSecs: 10}, r)
	if err != nil {
		t.Fatal(err)
	}

	// The medians are the middle rounds, each measure's own (the CPU time
	// per request of hit is its third round's, 220 µs); the errors add up
	// over the rounds.
	wantHit := wrkTable{Ref: "respond", Rows: []wrkRow{
		{Label: "llmgate llm_cache hit", RPS: 45000, Ratio: 45000.0 / 41000, P50MS: 0.6, P99MS: 10, CPUUS: 220, CPURatio: 220.0 / 300, MinRPS: 44000, MaxRPS: 46000, Errors: 3, RSSMB: 72},
		{Label: "Caddy respond (same bytes)", RPS: 41000, Ratio: 1, P50MS: 0.6, P99MS: 10, CPUUS: 300, CPURatio: 1, MinRPS: 40000, MaxRPS: 42000, Errors: 3, RSSMB: 72},
		{Label: "nginx proxy_cache (POST, body in key)", RPS: 69000, Ratio: 69000.0 / 41000, P50MS: 0.6, P99MS: 10, CPUUS: 100, CPURatio: 100.0 / 300, MinRPS: 68000, MaxRPS: 70000, Errors: 3, RSSMB: 72},
	}}
	if !reflect.DeepEqual(rep.Hit, wantHit) {
		t.Errorf("hit table\n%+v\nwant\n%+v", rep.Hit, wantHit)
	}
	if both := rep.Miss.Rows[3]; both.CPUUS != 400 || both.CPURatio != 400.0/310 {
		t.Errorf("miss row of both: CPU %v µs/req, %v× bare; want 400 and 400/310", both.CPUUS, both.CPURatio)
	}
	if l := rep.AccessLog.Rows[1]; l.CPUUS != 200 || l.CPURatio != 1 {
		t.Errorf("access log row of llm_redact: CPU %v µs/req, %v× json; want 200 and 1", l.CPUUS, l.CPURatio)
	}
	wantTargets := []target{
		{"cache hit ≥ 0.95× Caddy `respond`", "1.098×", true},
		{"miss with `llm_ratelimit` + `llm_cache` ≥ 0.95× bare `reverse_proxy`", "0.880×", false},
		{"miss with `llm_ratelimit` alone ≥ 0.97× bare", "0.970×", true},
		{"miss with `llm_cache` alone ≥ 0.97× bare", "0.890×", false},
		{"miss p99 with both ≤ 1.10× bare", "1.000×", true},
		{"`llm_ratelimit` with `storage redis` ≥ 0.85× memory", "0.800×", false},
		{"cache hit with `storage redis` + `local` ≥ 0.90× memory", "0.944×", true},
		{"access log with `format llm_redact` ≥ 0.97× `format json`", "1.008×", true},
		{"streaming TTFB through `llm_cache` (miss) within 1 ms of bare", "+0.136 ms", true},
		{"streaming TTFB through `llm_ratelimit` (tokens) within 1 ms of bare", "+1.049 ms", false},
		{"limiter count error ≤ 1% over 10 s (depth 1; nginx: -0.60%)", "-6.80%", false},
		{"limiter count error ≤ 1% over 10 s (depth 10; nginx: -0.04%)", "-0.06%", true},
	}
	if !reflect.DeepEqual(rep.Targets, wantTargets) {
		t.Errorf("targets\n%+v\nwant\n%+v", rep.Targets, wantTargets)
	}
	if l := rep.Limits[0]; l.Depth != 1 || l.Status200 != 4661 || l.Admitted != 466.1 || l.Offered != 20466.1 {
		t.Errorf("limit row %+v", l)
	}
	if s := rep.Streams[2]; s.Label != "llm_cache hit" || math.Abs(s.DeltaMS-(0.437-3.142)) > 1e-9 || s.RSSMB != 64 {
		t.Errorf("stream row %+v", s)
	}

	// A run that lost a contender has no report, rather than one with a hole.
	delete(r.wrk, label{"access_log", "log_json"})
	if _, err := newReport(run{}, r); err == nil || !strings.Contains(err.Error(), "log_json") {
		t.Errorf("newReport without log_json's runs: %v", err)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct{ a, b, want float64 }{
		{45000, 41000, 45000.0 / 41000},
		{1, 0, math.NaN()},
		{0, 10, 0},
	}
	for _, tt := range tests {
		got := ratio(tt.a, tt.b)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("ratio(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	// A ratio without a reference meets no target.
	if atLeast(math.NaN(), 0.95) || atMost(math.NaN(), 1) {
		t.Error("NaN meets a target")
	}
}

func TestShortenInlineBody(t *testing.T) {
	long := `{"id":"chatcmpl-fake1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[]}`
	in := "http://:23172 {\n\tbind 127.0.0.1\n\theader Content-Type application/json\n\trespond <<BODY\n" + long + "\nBODY 200\n}\n"
	want := "http://:23172 {\n\tbind 127.0.0.1\n\theader Content-Type application/json\n\trespond <<BODY\n" + long[:80] + "…\nBODY 200\n}\n"
	if got := shortenInlineBody(in); got != want {
		t.Errorf("shortenInlineBody =\n%s\nwant\n%s", got, want)
	}
	plain := "http://:52196 {\n\tbind 127.0.0.1\n\treverse_proxy 127.0.0.1:28335\n}\n"
	if got := shortenInlineBody(plain); got != plain {
		t.Errorf("shortenInlineBody changed a Caddyfile without a heredoc:\n%s", got)
	}
}

// TestWrite runs report write over a run directory as run.sh leaves it.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	wrks, heys, rsses, streams := runRecords()
	writeJSONL(t, filepath.Join(dir, wrkFile), wrks...)
	writeJSONL(t, filepath.Join(dir, heyFile), heys...)
	writeJSONL(t, filepath.Join(dir, rssFile), rsses...)
	writeJSONL(t, filepath.Join(dir, ttfbFile), streams...)
	var bench bytes.Buffer
	if err := runCommand([]string{"gobench", "testdata/gobench.txt"}, &bench); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		goBenchFile:                  bench.String(),
		"chat.json":                  `{"model":"gpt-4o-mini","messages":[]}`,
		"stream.json":                `{"model":"gpt-4o-mini","stream":true,"messages":[]}`,
		"commands.txt":               "wrk -t2 -c32 -d5s --latency\nhey -z 10s -c 32\n",
		"profile.txt":                "      flat  flat%   sum%        cum   cum%\n     1.59s 11.81% 11.81%      1.59s 11.81%  runtime.scanObject\n",
		"caddy/bare/Caddyfile":       "http://:52196 {\n\treverse_proxy 127.0.0.1:28335\n}\n",
		"nginx/limit_req/nginx.conf": "daemon off;\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "RESULTS.md")
	var stdout bytes.Buffer
	err := runCommand([]string{"write", "-dir", dir, "-o", out, "-started", "1764650000",
		"-rounds", "3", "-miss-rounds", "5", "-miss-filled", "cache: 262 MB in 40 s; both: 259 MB in 45 s", "-duration", "5s", "-threads", "2", "-conns", "32", "-limit-rate", "500", "-limit-secs", "10",
		"-stream-n", "50", "-stream-chunks", "50", "-stream-delay", "2ms", "-gobenchtime", "300ms", "-rev", "fa701bd",
		"-redacted", `"X-Api-Key":["sk-ant-api03-[REDACTED:098b]"]`,
		"-caddy-version", "v2.11.9 h1:bhZtcRKQOq0fuLvEgCdPYvUxXyGn9kzjG4lh2332DTE=", "-nginx-version", "nginx version: nginx/1.22.1",
		"-redis-version", "Redis server v=7.0.15 sha=00000000:0", "-wrk-version", "4.1.0-3+b2", "-hey-version", "0.1.4-2+b4"}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var headings []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			headings = append(headings, line)
		}
	}
	wantHeadings := []string{"# llmgate benchmarks", "## Machine and versions", "## Targets", "## 1. Cache hit", "## 2. Miss path",
		"## 3. Limiting accuracy", "## 4. Streaming", "## 5. Storage: memory vs Redis", "## 6. Access log", "## 7. Go benchmarks", "## 8. First run", "## Commands"}
	if !reflect.DeepEqual(headings, wantHeadings) {
		t.Errorf("headings %q\nwant %q", headings, wantHeadings)
	}
	for _, want := range []string{
		"they take turns (3 rounds, the order rotating each round)",
		"- llmgate: fa701bd; v2.11.9 (built by `go build ./cmd/caddy`); go",
		"- nginx/1.22.1; wrk 4.1.0-3+b2; hey 0.1.4-2+b4; redis 7.0.15\n",
		"- load: wrk -t2 -c32 -d5s (plus a 1 s warm-up per contender); hey -c32 -z10s;",
		"| cache hit ≥ 0.95× Caddy `respond` | 1.098× | met |\n",
		"| limiter count error ≤ 1% over 10 s (depth 1; nginx: -0.60%) | -6.80% | **not met** |\n",
		// CPU: 220 µs a request, 220/300 of respond's; both 400, 400/310 of bare's.
		"| llmgate llm_cache hit | 45000 | 44000–46000 | 1.098 | 220.0 | 0.733 | 0.600 | 10.000 | 3 | 72 |\n",
		"| + llm_ratelimit + llm_cache | 8800 | 8000–9100 | 0.880 | 400.0 | 1.290 | 0.600 | 10.000 | 3 | 72 |\n",
		"| llmgate llm_ratelimit token_bucket | 1 | 20466 | 466.1 | -6.80% | -1.22% to -2.44% | 4661 | 200000 | 0 | 21 |\n",
		"| llm_ratelimit tokens 100000000/m | 4.191 | 5.907 | 124.648 | 137.981 | +1.049 | 54 | 1 | 64 |\n",
		"Redis' own peak RSS: 12 MB.",
		"until their 256MiB stores were full (cache: 262 MB in 40 s; both: 259 MB in 45 s), as a server's is",
		"5 rounds; \"rounds' req/s\" is the slowest and the fastest.",
		"```text\n      flat  flat%   sum%        cum   cum%\n     1.59s 11.81% 11.81%      1.59s 11.81%  runtime.scanObject\n```\n",
		"| contender | req/s | rounds' req/s | × rl_memory | CPU µs/req | CPU × rl_memory | p50 ms |",
		"there the header reads `\"X-Api-Key\":[\"sk-ant-api03-[REDACTED:098b]\"]`.",
		"| limiter/redisstore | Take | 832632 |  | 73672 | 173 | 831.5 p50-µs, 831.5 p99-µs |\n",
		"`go test -bench . -benchmem -benchtime 300ms` over",
		"chat body:   {\"model\":\"gpt-4o-mini\",\"messages\":[]}\n",
		"```sh\nwrk -t2 -c32 -d5s --latency\nhey -z 10s -c 32\n```\n",
		"`caddy/bare/Caddyfile`\n\n```\nhttp://:52196 {\n\treverse_proxy 127.0.0.1:28335\n}\n```\n\n`nginx/limit_req/nginx.conf`\n\n```\ndaemon off;\n```\n\n</details>\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report has no %q", want)
		}
	}
	sum := stdout.String()
	if !strings.HasPrefix(sum, "## Targets\n") || !strings.Contains(sum, "## 7. Go benchmarks") || strings.Contains(sum, "## Commands") {
		t.Errorf("printed summary, want Targets to the Go benchmarks:\n%s", sum)
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
}

func writeJSONL[T any](t *testing.T, path string, records ...T) {
	t.Helper()
	var b bytes.Buffer
	if err := printJSONL(&b, records...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecordCommands runs the record commands on the tools' real output.
func TestRecordCommands(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{args: []string{"wrk", "-scenario", "hit", "-name", "proxy_cache", "testdata/wrk-hit.txt"},
			want: `{"scenario":"hit","name":"proxy_cache","requests":39433,"duration_us":1015470,"non2xx":0,"socket_errors":0,"p50_us":153,"p99_us":48604,"cpu_ticks":0}` + "\n"},
		{args: []string{"wrk", "-scenario", "hit", "-name", "proxy_cache", "-cpu-ticks", "157", "testdata/wrk-hit.txt"},
			want: `{"scenario":"hit","name":"proxy_cache","requests":39433,"duration_us":1015470,"non2xx":0,"socket_errors":0,"p50_us":153,"p99_us":48604,"cpu_ticks":157}` + "\n"},
		{args: []string{"hey", "-scenario", "limit", "-name", "limit", "-depth", "1", "testdata/hey-limit.txt"},
			want: `{"scenario":"limit","name":"limit","depth":1,"seconds":1.0007,"codes":{"200":443,"429":12361}}` + "\n"},
		{args: []string{"rss", "-scenario", "hit", "-name", "self", strconv.Itoa(os.Getpid())}},
		{args: []string{"ttfb", "-hit", "cache-hit", "-miss", "cache-miss", "testdata/ttfb.tsv"}},
		{args: []string{"ttfb", "-hit", "cache-miss", "testdata/ttfb.tsv"}, wantErr: true},
		{args: []string{"wrk", "-scenario", "hit", "testdata/hey-limit.txt"}, wantErr: true},
		{args: []string{"wrk", "testdata/no-such-file"}, wantErr: true},
		{args: []string{"wrk"}, wantErr: true},
		{args: []string{"nope"}, wantErr: true},
		{args: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := runCommand(tt.args, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if tt.want != "" && out.String() != tt.want {
				t.Errorf("printed %s\nwant    %s", out.String(), tt.want)
			}
			if !tt.wantErr && (!strings.HasSuffix(out.String(), "}\n") || out.Len() < 20) {
				t.Errorf("printed %q, want JSON lines", out.String())
			}
		})
	}
}
