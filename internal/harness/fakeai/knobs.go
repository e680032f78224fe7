package fakeai

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits on knob values, so a typo cannot make the fake allocate gigabytes.
const (
	maxChunks = 100000
	maxSize   = 64 << 20
)

// defaultChunks is how many content deltas a stream carries by default.
const defaultChunks = 5

// knobs are the per-request controls read from x-fake-* headers.
type knobs struct {
	status       int           // x-fake-status: answer with this error; 0 = none
	retryAfterMS int           // x-fake-retry-after-ms; -1 = not given
	usage        *usage        // x-fake-usage: "<prompt>,<completion>"
	noUsage      bool          // x-fake-no-usage: 1 = streams carry no usage
	delay        time.Duration // x-fake-delay: before a JSON answer / each stream event
	chunks       int           // x-fake-chunks: content deltas in a stream
	dieAfter     int           // x-fake-die-after: cut the connection; -1 = never
	gzip         bool          // x-fake-gzip: 1 = gzip the answer if accepted
	echoKey      bool          // x-fake-echo-key: 1 = echo the credential on a 401
	size         int           // x-fake-size: content of about this many bytes; 0 = natural
	model        string        // x-fake-model: the model the answer names, as a provider names the version it served; "" = the request's
	cached       int           // x-fake-cached: prompt tokens read from the provider's prompt cache
	cacheWrite   int           // x-fake-cache-write: prompt tokens Anthropic wrote to its prompt cache
}

// usage is a token count pair as the providers report it, with the
// prompt tokens the provider's prompt cache read (OpenAI: part of
// prompt; Anthropic: apart from it) and wrote (Anthropic).
type usage struct {
	prompt, completion int
	cached, cacheWrite int
}

// defaultKnobs are the controls of a request without x-fake-* headers.
func defaultKnobs() knobs {
	return knobs{retryAfterMS: -1, chunks: defaultChunks, dieAfter: -1}
}

func parseKnobs(h http.Header) (knobs, error) {
	k := defaultKnobs()
	var errs []error
	intKnob := func(name string, lo, hi int, dst *int) {
		v := h.Get(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s: want an integer in [%d, %d], got %q", name, lo, hi, v))
			return
		}
		*dst = n
	}
	intKnob("x-fake-status", 400, 599, &k.status)
	intKnob("x-fake-retry-after-ms", 0, 3600000, &k.retryAfterMS)
	intKnob("x-fake-chunks", 1, maxChunks, &k.chunks)
	intKnob("x-fake-die-after", 0, maxChunks+16, &k.dieAfter)
	intKnob("x-fake-size", 0, maxSize, &k.size)
	intKnob("x-fake-cached", 0, 1<<30, &k.cached)
	intKnob("x-fake-cache-write", 0, 1<<30, &k.cacheWrite)
	k.noUsage = h.Get("x-fake-no-usage") == "1"
	k.gzip = h.Get("x-fake-gzip") == "1" && acceptsGzip(h.Get("Accept-Encoding"))
	k.echoKey = h.Get("x-fake-echo-key") == "1"
	k.model = h.Get("x-fake-model")
	if v := h.Get("x-fake-delay"); v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("x-fake-delay: want a non-negative Go duration such as 50ms, got %q", v))
		}
		k.delay = d
	}
	if v := h.Get("x-fake-usage"); v != "" {
		u, err := parseUsage(v)
		if err != nil {
			errs = append(errs, err)
		}
		k.usage = u
	}
	return k, errors.Join(errs...)
}

func parseUsage(v string) (*usage, error) {
	p, c, ok := strings.Cut(v, ",")
	prompt, err1 := strconv.Atoi(strings.TrimSpace(p))
	completion, err2 := strconv.Atoi(strings.TrimSpace(c))
	if !ok || err1 != nil || err2 != nil || prompt < 0 || completion < 0 {
		return nil, fmt.Errorf("x-fake-usage: want \"<prompt>,<completion>\" non-negative integers, got %q", v)
	}
	return &usage{prompt: prompt, completion: completion}, nil
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip: listed
// (or "*") without q=0.
func acceptsGzip(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			name, val, _ := strings.Cut(strings.TrimSpace(param), "=")
			if strings.EqualFold(name, "q") {
				q, _ = strconv.ParseFloat(strings.TrimSpace(val), 64)
			}
		}
		return q > 0
	}
	return false
}
