package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// heyRun is one hey run against a rate limiter: how long it took and how
// many answers of each status it got.
type heyRun struct {
	label
	Depth   int         `json:"depth"` // the limiter's bucket depth, set by run.sh
	Seconds float64     `json:"seconds"`
	Codes   map[int]int `json:"codes"`
}

// offered is every answer of any status per second: the offered load.
func (h heyRun) offered() float64 {
	all := 0
	for _, n := range h.Codes {
		all += n
	}
	return float64(all) / h.Seconds
}

// admitted is the 200s per second.
func (h heyRun) admitted() float64 { return float64(h.Codes[200]) / h.Seconds }

// errorPct is how far the 200s are from what a bucket of rate per second
// that starts full admits over the run, in percent of that.
func (h heyRun) errorPct(rate float64) float64 {
	want := rate*h.Seconds + float64(h.Depth)
	return (float64(h.Codes[200]) - want) / want * 100
}

// parseHey reads hey's default summary: the "Total:" line of its Summary and
// the "[code] count responses" lines under "Status code distribution:",
// into h.
func parseHey(r io.Reader, h *heyRun) error {
	h.Codes = map[int]int{}
	inCodes := false
	err := eachLine(r, func(line string) error {
		if line != "" && line[0] != ' ' {
			inCodes = line == "Status code distribution:"
			return nil
		}
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Total:":
			secs, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return fmt.Errorf("hey summary %q: %w", line, err)
			}
			h.Seconds = secs
		case inCodes && len(f) > 0:
			var code, n int
			if _, err := fmt.Sscanf(line, " [%d] %d responses", &code, &n); err != nil {
				return fmt.Errorf("hey status line %q: want '[code] count responses'", line)
			}
			h.Codes[code] += n
		}
		return nil
	})
	if err == nil && h.Seconds <= 0 {
		err = errors.New("no 'Total:' line in hey's summary")
	}
	return err
}
