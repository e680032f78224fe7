package main

import (
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// module is the import path that `go test -bench` prints before each
// package's path; the report names packages relative to it.
const module = "github.com/llmgate/caddy-llmgate"

// benchResult is one result line of `go test -bench -benchmem`, its values
// kept as go test printed them.
type benchResult struct {
	Package string        `json:"package"` // relative to module, "llmgate" for its root
	Name    string        `json:"name"`    // without "Benchmark" and the -GOMAXPROCS suffix
	Metrics []benchMetric `json:"metrics"`
}

// benchMetric is one "value unit" pair of a result line, such as "4813 ns/op".
type benchMetric struct {
	Value string `json:"value"`
	Unit  string `json:"unit"`
}

// Metric is the value of unit, "" when the line has none.
func (b benchResult) Metric(unit string) string {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m.Value
		}
	}
	return ""
}

// tableUnits are the units with a column of their own in the report; the
// others (b.ReportMetric's) share one.
var tableUnits = []string{"ns/op", "MB/s", "B/op", "allocs/op"}

// Others is the metrics without a column of their own, as "value unit, …".
func (b benchResult) Others() string {
	var s []string
	for _, m := range b.Metrics {
		if !slices.Contains(tableUnits, m.Unit) {
			s = append(s, m.Value+" "+m.Unit)
		}
	}
	return strings.Join(s, ", ")
}

// procsSuffix is the -GOMAXPROCS that go test appends to a benchmark's name
// when GOMAXPROCS is above 1.
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// parseGoBench reads the output of `go test -bench` over several packages:
// each package's results follow its "pkg:" line.
func parseGoBench(r io.Reader) ([]benchResult, error) {
	var out []benchResult
	pkg := ""
	err := eachLine(r, func(line string) error {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "pkg:" {
			pkg = strings.TrimPrefix(strings.TrimPrefix(f[1], module), "/")
			if pkg == "" {
				pkg = "llmgate"
			}
			return nil
		}
		// A result line: name, iterations, then value-unit pairs. A name
		// alone is a benchmark whose own output came before its result.
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			return nil
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			return nil
		}
		b := benchResult{Package: pkg, Name: procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")}
		for i := 2; i < len(f); i += 2 {
			b.Metrics = append(b.Metrics, benchMetric{Value: f[i], Unit: f[i+1]})
		}
		out = append(out, b)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New("no benchmark result lines")
	}
	return out, err
}
