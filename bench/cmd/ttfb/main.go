// Command ttfb measures server-sent event streams through several servers
// side by side: for each request, the time to the first event and to the end
// of the stream. Targets are taken in turns, one request each, so a noisy
// machine slows them all alike.
//
//	ttfb -n 50 -body body.json -H 'x-fake-chunks: 50' \
//	     -target bare=http://127.0.0.1:8001/v1/chat/completions \
//	     -target miss=http://127.0.0.1:8002/v1/chat/completions -unique miss \
//	     -target hit=http://127.0.0.1:8002/v1/chat/completions -warm hit
//
// "{{nonce}}" in the body becomes a fresh value on every request of a -unique
// target (a new prompt each time) and a fixed value elsewhere. A -warm target
// gets one unmeasured request first. Output is one tab-separated line per
// target: name, requests, first-event p50 and p99, last-event p50 and p99 (ms),
// the median event count, the number of failed requests, and the Cache-Status
// header of the last answer ("-" when absent).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/llmgate/caddy-llmgate/bench/internal/stats"
)

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// target is one server under test and what it measured.
type target struct {
	name, url    string
	unique, warm bool
	first, last  []time.Duration
	events       []int
	failed       int
	cache        string // Cache-Status of the last answer, to check hits and misses
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ttfb:", err)
		os.Exit(1)
	}
}

func run() error {
	var targets, headers, unique, warm listFlag
	n := flag.Int("n", 50, "measured requests per target")
	bodyFile := flag.String("body", "", "file holding the JSON request body")
	flag.Var(&targets, "target", "name=URL of a server under test (repeatable)")
	flag.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	flag.Var(&unique, "unique", "name of a target whose every request gets a new nonce (repeatable)")
	flag.Var(&warm, "warm", "name of a target sent one unmeasured request first (repeatable)")
	flag.Parse()
	if *n < 1 || *bodyFile == "" || len(targets) == 0 {
		return errors.New("need -n >= 1, -body and at least one -target")
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("header %q: want 'Name: value'", h)
		}
		hdr.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	ts := make([]*target, 0, len(targets))
	for _, t := range targets {
		name, url, ok := strings.Cut(t, "=")
		if !ok || name == "" || url == "" {
			return fmt.Errorf("target %q: want name=URL", t)
		}
		ts = append(ts, &target{name: name, url: url, unique: slices.Contains(unique, name), warm: slices.Contains(warm, name)})
	}
	nonce := make([]byte, 6)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	runID := hex.EncodeToString(nonce)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}, Timeout: time.Minute}
	bodyFor := func(t *target, i int) string {
		v := "fixed"
		if t.unique {
			v = fmt.Sprintf("%s-%s-%d", runID, t.name, i)
		}
		return strings.ReplaceAll(string(body), "{{nonce}}", v)
	}
	for _, t := range ts {
		if t.warm {
			if _, err := measure(client, t.url, hdr, bodyFor(t, -1)); err != nil {
				return fmt.Errorf("%s: warm-up: %w", t.name, err)
			}
		}
	}
	for i := range *n {
		for _, t := range ts {
			s, err := measure(client, t.url, hdr, bodyFor(t, i))
			if err != nil {
				t.failed++
				fmt.Fprintf(os.Stderr, "ttfb: %s: %v\n", t.name, err)
				continue
			}
			t.first = append(t.first, s.first)
			t.last = append(t.last, s.last)
			t.events = append(t.events, s.events)
			t.cache = s.cache
		}
	}
	for _, t := range ts {
		fmt.Printf("%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%s\n", t.name, len(t.first),
			ms(stats.Percentile(t.first, 50)), ms(stats.Percentile(t.first, 99)),
			ms(stats.Percentile(t.last, 50)), ms(stats.Percentile(t.last, 99)),
			stats.Percentile(t.events, 50), t.failed, t.cache)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
