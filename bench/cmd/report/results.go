package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/llmgate/caddy-llmgate/bench/internal/stats"
)

// The files the record commands' output goes to in the run's directory, one
// JSON object a line.
const (
	wrkFile     = "wrk.jsonl"
	heyFile     = "hey.jsonl"
	rssFile     = "rss.jsonl"
	ttfbFile    = "ttfb.jsonl"
	goBenchFile = "gobench.jsonl"
)

// results is everything a run measured.
type results struct {
	wrk     map[label][]wrkRun
	hey     map[label][]heyRun
	rss     map[label]int64
	streams map[string]stream
	bench   []benchResult
}

// label names what a record measured: a contender, by the name run.sh gave
// its server, in one scenario.
type label struct {
	Scenario string `json:"scenario"`
	Name     string `json:"name"`
}

// flagSet is a record command's flags, -scenario and -name setting l.
func (l *label) flagSet(command string) *flag.FlagSet {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.StringVar(&l.Scenario, "scenario", "", "the scenario run.sh ran")
	fs.StringVar(&l.Name, "name", "", "the name run.sh gave the server")
	return fs
}

// readJSONL decodes every line of path into a T.
func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// readResults reads the records of a run from its directory.
func readResults(dir string) (*results, error) {
	r := &results{
		wrk:     map[label][]wrkRun{},
		hey:     map[label][]heyRun{},
		rss:     map[label]int64{},
		streams: map[string]stream{},
	}
	wrks, err := readJSONL[wrkRun](filepath.Join(dir, wrkFile))
	if err != nil {
		return nil, err
	}
	for _, w := range wrks {
		k := w.label
		r.wrk[k] = append(r.wrk[k], w)
	}
	heys, err := readJSONL[heyRun](filepath.Join(dir, heyFile))
	if err != nil {
		return nil, err
	}
	for _, h := range heys {
		r.hey[h.label] = append(r.hey[h.label], h)
	}
	rsses, err := readJSONL[rss](filepath.Join(dir, rssFile))
	if err != nil {
		return nil, err
	}
	for _, m := range rsses {
		r.rss[m.label] = m.KB
	}
	streams, err := readJSONL[stream](filepath.Join(dir, ttfbFile))
	if err != nil {
		return nil, err
	}
	for _, s := range streams {
		r.streams[s.Name] = s
	}
	if r.bench, err = readJSONL[benchResult](filepath.Join(dir, goBenchFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// median is the median of f over runs (the lower middle one of an even
// count, a value that was measured).
func median[T any](runs []T, f func(T) float64) float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return stats.Percentile(xs, 50)
}

// ratio is a/b; the comparisons of the report are ratios of medians.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return a / b
}

// wrkRow is one contender of a wrk scenario: medians over its rounds, except
// for the errors, which add up.
type wrkRow struct {
	Label                    string
	RPS, Ratio, P50MS, P99MS float64
	// CPUUS is the server's CPU time per request in µs, CPURatio that over
	// the reference contender's.
	CPUUS, CPURatio float64
	// MinRPS and MaxRPS are the slowest and the fastest round.
	MinRPS, MaxRPS float64
	Errors         int64
	RSSMB          float64
}

// wrkTable is a wrk scenario's table: Ratio divides by Ref's req/s, CPURatio
// by Ref's CPU time per request.
type wrkTable struct {
	Ref  string
	Rows []wrkRow
}

// contender is a row of a table: the label the report gives it and the name
// run.sh gave its server.
type contender struct{ label, name string }

func (r *results) rssMB(scenario, name string) (float64, error) {
	kb, ok := r.rss[label{scenario, name}]
	if !ok {
		return 0, fmt.Errorf("no peak RSS of %s in scenario %s", name, scenario)
	}
	return float64(kb) / 1024, nil
}

func (r *results) wrkRuns(scenario, name string) ([]wrkRun, error) {
	runs := r.wrk[label{scenario, name}]
	if len(runs) == 0 {
		return nil, fmt.Errorf("no wrk runs of %s in scenario %s", name, scenario)
	}
	return runs, nil
}

// rps is the median req/s of name in scenario.
func (r *results) rps(scenario, name string) (float64, error) {
	runs, err := r.wrkRuns(scenario, name)
	if err != nil {
		return 0, err
	}
	return median(runs, wrkRun.rps), nil
}

// wrkTable is the table of a wrk scenario, its ratios against ref.
func (r *results) wrkTable(scenario, ref string, cs ...contender) (wrkTable, error) {
	refRuns, err := r.wrkRuns(scenario, ref)
	if err != nil {
		return wrkTable{}, err
	}
	refRPS, refCPU := median(refRuns, wrkRun.rps), median(refRuns, wrkRun.cpuUS)
	t := wrkTable{Ref: ref}
	for _, c := range cs {
		runs, err := r.wrkRuns(scenario, c.name)
		if err != nil {
			return wrkTable{}, err
		}
		mb, err := r.rssMB(scenario, c.name)
		if err != nil {
			return wrkTable{}, err
		}
		row := wrkRow{
			Label:  c.label,
			RPS:    median(runs, wrkRun.rps),
			MinRPS: math.Inf(1),
			P50MS:  median(runs, func(w wrkRun) float64 { return float64(w.P50US) / 1000 }),
			P99MS:  r.p99MS(scenario, c.name),
			CPUUS:  median(runs, wrkRun.cpuUS),
			RSSMB:  mb,
		}
		row.Ratio = ratio(row.RPS, refRPS)
		row.CPURatio = ratio(row.CPUUS, refCPU)
		for _, w := range runs {
			row.Errors += w.Non2xx + w.SocketErrors
			row.MinRPS, row.MaxRPS = min(row.MinRPS, w.rps()), max(row.MaxRPS, w.rps())
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// p99MS is the median p99 of a contender's rounds, NaN without rounds.
func (r *results) p99MS(scenario, name string) float64 {
	runs := r.wrk[label{scenario, name}]
	if len(runs) == 0 {
		return math.NaN()
	}
	return median(runs, func(w wrkRun) float64 { return float64(w.P99US) / 1000 })
}

// limitRow is one limiter of the accuracy scenario, medians over its rounds.
type limitRow struct {
	Label                           string
	Depth                           int
	Rate, Offered, Admitted         float64
	ErrorPct                        float64
	Status200, Status429, Status503 float64
	RSSMB                           float64
}

// GapLoss is the error a bucket of depth 1 makes whatever its counting,
// "" at other depths. It cannot bank the time from its refill to the next
// arrival, so each admission loses between half a mean gap between
// arrivals (arrivals evenly spaced) and a whole one (arrivals at random):
// an error of rate/(2·offered) to rate/offered.
func (l limitRow) GapLoss() string {
	if l.Depth != 1 || l.Offered <= 0 {
		return ""
	}
	return fmt.Sprintf("-%.2f%% to -%.2f%%", 100*l.Rate/(2*l.Offered), 100*l.Rate/l.Offered)
}

// limitRow is the row of the limiter name, whose rate is rate per second.
func (r *results) limitRow(c contender, rate float64) (limitRow, error) {
	runs := r.hey[label{"limit", c.name}]
	if len(runs) == 0 {
		return limitRow{}, fmt.Errorf("no hey runs of %s", c.name)
	}
	mb, err := r.rssMB("limit", c.name)
	if err != nil {
		return limitRow{}, err
	}
	status := func(code int) float64 {
		return median(runs, func(h heyRun) float64 { return float64(h.Codes[code]) })
	}
	return limitRow{
		Label:     c.label,
		Depth:     runs[0].Depth,
		Rate:      rate,
		Offered:   median(runs, heyRun.offered),
		Admitted:  median(runs, heyRun.admitted),
		ErrorPct:  median(runs, func(h heyRun) float64 { return h.errorPct(rate) }),
		Status200: status(200),
		Status429: status(429),
		Status503: status(503),
		RSSMB:     mb,
	}, nil
}

// streamRow is one ttfb target with its first event's distance from the
// bare proxy's.
type streamRow struct {
	Label string
	stream
	DeltaMS float64
	RSSMB   float64
}

func (r *results) stream(name string) (stream, error) {
	s, ok := r.streams[name]
	if !ok {
		return stream{}, fmt.Errorf("no ttfb line of %s", name)
	}
	return s, nil
}

// ttfbDelta is how much later name's first event came than bare's (p50, ms).
func (r *results) ttfbDelta(name, bare string) (float64, error) {
	s, err := r.stream(name)
	if err != nil {
		return 0, err
	}
	b, err := r.stream(bare)
	if err != nil {
		return 0, err
	}
	return s.FirstP50MS - b.FirstP50MS, nil
}
