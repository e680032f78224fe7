package main

import (
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The files in testdata are what the tools printed, run for a second each
// against bench's own servers: wrk 4.1.0 with bench/lua/chat.lua, hey 0.1.4,
// bench/cmd/ttfb, and go test -bench -benchmem over three packages.

// parseTestdata parses the testdata file, less the text cut, with parse.
// It fails t unless the error says wantErr (or there is none where wantErr
// is empty), and reports whether there is a value to check.
func parseTestdata[T any](t *testing.T, parse func(io.Reader, *T) error, file, cut, wantErr string) (T, bool) {
	t.Helper()
	var got T
	err := parse(strings.NewReader(strings.Replace(readTestdata(t, file), cut, "", 1)), &got)
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s: %v", file, err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Errorf("%s less %q: err %v, want one saying %q", file, cut, err, wantErr)
	}
	return got, err == nil
}

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file, cut, wantErr string
		want               wrkRun
		wantRPS            float64 // as wrk's own Requests/sec line has it
	}{
		{file: "wrk-hit.txt", want: wrkRun{Requests: 39433, DurationUS: 1015470, P50US: 153, P99US: 48604}, wantRPS: 38832.26},
		{file: "wrk-429.txt", want: wrkRun{Requests: 18604, DurationUS: 1172181, Non2xx: 18604, P50US: 319, P99US: 18486}, wantRPS: 15871.27},
		// wrk run without bench/lua/chat.lua prints no WRKRESULT line.
		{file: "wrk-hit.txt", cut: "WRKRESULT 39433 1015470 0 0 153 48604\n", wantErr: "no WRKRESULT line"},
		{file: "wrk-hit.txt", cut: " 153 48604", wantErr: "WRKRESULT line"},
	}
	for _, tt := range tests {
		got, ok := parseTestdata(t, parseWrk, tt.file, tt.cut, tt.wantErr)
		if ok && (got != tt.want || math.Abs(got.rps()-tt.wantRPS) > 0.01) {
			t.Errorf("%s: parseWrk = %+v at %.2f req/s, want %+v at %.2f", tt.file, got, got.rps(), tt.want, tt.wantRPS)
		}
	}
}

func TestParseHey(t *testing.T) {
	tests := []struct {
		file, cut, wantErr string
		want               heyRun
		offered, admitted  float64
	}{
		// offered is hey's own Requests/sec, which it works out from the unrounded total.
		{file: "hey-limit.txt", want: heyRun{Seconds: 1.0007, Codes: map[int]int{200: 443, 429: 12361}}, offered: 12795.04, admitted: 442.69},
		// Refused connections are errors, not statuses: "[4]" under Error
		// distribution is a count of 4, not status 4.
		{file: "hey-refused.txt", want: heyRun{Seconds: 0.0019, Codes: map[int]int{}}},
		{file: "hey-limit.txt", cut: "  Total:\t1.0007 secs\n", wantErr: "no 'Total:' line"},
		{file: "hey-limit.txt", cut: "\t443 responses", wantErr: "hey status line"},
	}
	for _, tt := range tests {
		got, ok := parseTestdata(t, parseHey, tt.file, tt.cut, tt.wantErr)
		if !ok {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseHey = %+v, want %+v", tt.file, got, tt.want)
		}
		if math.Abs(got.offered()-tt.offered) > 0.01 || math.Abs(got.admitted()-tt.admitted) > 0.01 {
			t.Errorf("%s: offered %.2f/s, admitted %.2f/s; want %.2f and %.2f", tt.file, got.offered(), got.admitted(), tt.offered, tt.admitted)
		}
	}
}

func TestHeyErrorPct(t *testing.T) {
	tests := []struct {
		run  heyRun
		rate float64
		want float64
	}{
		// 500/s over 10 s from a full bucket of 1: 5001 expected.
		{run: heyRun{Depth: 1, Seconds: 10, Codes: map[int]int{200: 5001}}, rate: 500, want: 0},
		{run: heyRun{Depth: 10, Seconds: 10, Codes: map[int]int{200: 5010 - 501, 429: 9}}, rate: 500, want: -10},
		{run: heyRun{Depth: 1, Seconds: 1.0007, Codes: map[int]int{200: 443, 429: 12361}}, rate: 500, want: (443 - 501.35) / 501.35 * 100},
	}
	for _, tt := range tests {
		if got := tt.run.errorPct(tt.rate); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%+v errorPct(%v) = %v, want %v", tt.run, tt.rate, got, tt.want)
		}
	}
}

func TestParseTTFB(t *testing.T) {
	streams, err := parseTTFB(strings.NewReader(readTestdata(t, "ttfb.tsv")))
	if err != nil {
		t.Fatal(err)
	}
	want := []stream{
		{Name: "bare", Requests: 3, FirstP50MS: 2.925, FirstP99MS: 4.274, LastP50MS: 125.428, LastP99MS: 128.899, Events: 54, CacheStatus: "-"},
		{Name: "cache-miss", Requests: 3, FirstP50MS: 3.078, FirstP99MS: 3.237, LastP50MS: 123.024, LastP99MS: 124.714, Events: 54, CacheStatus: "llmgate; fwd=miss; stored"},
		{Name: "cache-hit", Requests: 3, FirstP50MS: 0.460, FirstP99MS: 0.631, LastP50MS: 0.502, LastP99MS: 0.679, Events: 54, CacheStatus: "llmgate; hit; ttl=3599"},
	}
	if !reflect.DeepEqual(streams, want) {
		t.Fatalf("parseTTFB = %+v\nwant %+v", streams, want)
	}
	// Each stream's Cache-Status says what it is, and no other.
	for _, c := range [][2]string{{"cache-hit", "hit"}, {"cache-miss", "fwd=miss"}} {
		if err := checkCacheStatus(streams, c[0], c[1]); err != nil {
			t.Error(err)
		}
	}
	for _, c := range [][2]string{{"cache-miss", "hit"}, {"bare", "hit"}, {"ratelimit-tokens", "fwd=miss"}} {
		if err := checkCacheStatus(streams, c[0], c[1]); err == nil {
			t.Errorf("checkCacheStatus(%s, %q): no error", c[0], c[1])
		}
	}
	for _, bad := range []string{"", "bare\t3\t2.925\n", "bare\tx\t2.925\t4.274\t125.428\t128.899\t54\t0\t-\n"} {
		if _, err := parseTTFB(strings.NewReader(bad)); err == nil {
			t.Errorf("parseTTFB(%q): no error", bad)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	got, err := parseGoBench(strings.NewReader(readTestdata(t, "gobench.txt")))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ pkg, name, ns, mbs, bop, allocs, others string }
	want := []row{
		{"llmgate", "ModelMatcher", "77155", "27.66", "11256", "38", ""},
		{"sse", "Parse/chunk=64", "42053", "929.87", "448", "3", "201.0 events/op"},
		{"sse", "Parse/chunk=1024", "25959", "1506.38", "272", "2", "201.0 events/op"},
		{"sse", "Parse/chunk=32768", "22093", "1769.97", "480", "2", "201.0 events/op"},
		{"limiter/redisstore", "Take", "832632", "", "73672", "173", "831.5 p50-µs, 831.5 p99-µs"},
		{"limiter/redisstore", "TakeParallel", "13347703", "", "109944", "432", ""},
		{"limiter/redisstore", "Adjust", "948450", "", "72680", "164", ""},
	}
	var rows []row
	for _, b := range got {
		rows = append(rows, row{b.Package, b.Name, b.Metric("ns/op"), b.Metric("MB/s"), b.Metric("B/op"), b.Metric("allocs/op"), b.Others()})
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("parseGoBench =\n%q\nwant\n%q", rows, want)
	}
	if _, err := parseGoBench(strings.NewReader("PASS\nok  \tgithub.com/llmgate/caddy-llmgate/sse\t0.018s\n")); err == nil {
		t.Error("parseGoBench of output without results: no error")
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
