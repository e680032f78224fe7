package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// wrkRun is one measured wrk run against one contender, as the done() hook
// of bench/lua/chat.lua reports it in its WRKRESULT line.
type wrkRun struct {
	label
	Requests     int64 `json:"requests"`
	DurationUS   int64 `json:"duration_us"`
	Non2xx       int64 `json:"non2xx"`
	SocketErrors int64 `json:"socket_errors"` // connect, read, write and timeout errors
	P50US        int64 `json:"p50_us"`
	P99US        int64 `json:"p99_us"`
	// CPUTicks is the server's CPU time during the run (see cpuTicks),
	// which report wrk takes from its -cpu-ticks, not from wrk's output.
	CPUTicks int64 `json:"cpu_ticks"`
}

// rps is the run's throughput in requests per second.
func (w wrkRun) rps() float64 { return float64(w.Requests) / (float64(w.DurationUS) / 1e6) }

// cpuUS is the server's CPU time per request in µs, NaN for a run without
// requests.
func (w wrkRun) cpuUS() float64 {
	return ratio(float64(w.CPUTicks)*(1e6/ticksPerSecond), float64(w.Requests))
}

// parseWrk reads wrk's output for the WRKRESULT line into w; wrk's own
// summary, printed with rounded units, is left alone.
func parseWrk(r io.Reader, w *wrkRun) error {
	err := eachLine(r, func(line string) error {
		rest, ok := strings.CutPrefix(line, "WRKRESULT ")
		if !ok {
			return nil
		}
		if _, err := fmt.Sscan(rest, &w.Requests, &w.DurationUS, &w.Non2xx, &w.SocketErrors, &w.P50US, &w.P99US); err != nil {
			return fmt.Errorf("WRKRESULT line %q: %w", line, err)
		}
		return nil
	})
	if err == nil && w.DurationUS <= 0 {
		err = errors.New("no WRKRESULT line with a duration: is bench/lua/chat.lua the script?")
	}
	return err
}
