package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// stream is one target's line of bench/cmd/ttfb's output: its timings over
// all its requests.
type stream struct {
	Name        string  `json:"name"`
	Requests    int     `json:"requests"`
	FirstP50MS  float64 `json:"first_p50_ms"`
	FirstP99MS  float64 `json:"first_p99_ms"`
	LastP50MS   float64 `json:"last_p50_ms"`
	LastP99MS   float64 `json:"last_p99_ms"`
	Events      int     `json:"events"`
	Failed      int     `json:"failed"`
	CacheStatus string  `json:"cache_status"` // of the last answer, "-" when absent
}

// parseTTFB reads ttfb's tab-separated lines.
func parseTTFB(r io.Reader) ([]stream, error) {
	var out []stream
	err := eachLine(r, func(line string) error {
		f := strings.Split(line, "\t")
		if len(f) != 9 {
			return fmt.Errorf("ttfb line %q: want 9 tab-separated fields", line)
		}
		s := stream{Name: f[0], CacheStatus: f[8]}
		var errs [7]error
		s.Requests, errs[0] = strconv.Atoi(f[1])
		s.FirstP50MS, errs[1] = strconv.ParseFloat(f[2], 64)
		s.FirstP99MS, errs[2] = strconv.ParseFloat(f[3], 64)
		s.LastP50MS, errs[3] = strconv.ParseFloat(f[4], 64)
		s.LastP99MS, errs[4] = strconv.ParseFloat(f[5], 64)
		s.Events, errs[5] = strconv.Atoi(f[6])
		s.Failed, errs[6] = strconv.Atoi(f[7])
		if err := errors.Join(errs[:]...); err != nil {
			return fmt.Errorf("ttfb line %q: %w", line, err)
		}
		out = append(out, s)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New("ttfb printed no lines")
	}
	return out, err
}

// checkCacheStatus fails unless the named stream's last answer carries want
// in its Cache-Status: a hit that was not served from the cache, or a miss
// that was, measures the wrong path.
func checkCacheStatus(streams []stream, name, want string) error {
	for _, s := range streams {
		if s.Name == name {
			if !strings.Contains(s.CacheStatus, want) {
				return fmt.Errorf("the %s stream's Cache-Status is %q, without %q", name, s.CacheStatus, want)
			}
			return nil
		}
	}
	return fmt.Errorf("ttfb printed no %s line", name)
}
