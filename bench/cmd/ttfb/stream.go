package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// sample is the timing of one streamed answer, measured from just before the
// request is sent.
type sample struct {
	first  time.Duration // the first "data:" line arrived
	last   time.Duration // the body ended
	events int           // "data:" lines seen
	cache  string        // the Cache-Status header, "-" when absent
}

// measure POSTs body to url and reads the answer as a server-sent event
// stream. Headers alone do not count as the first event: a proxy may send
// them before the upstream has produced anything.
func measure(client *http.Client, url string, hdr http.Header, body string) (sample, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return sample{}, err
	}
	req.Header = hdr.Clone()
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return sample{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return sample{}, fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	s := sample{cache: res.Header.Get("Cache-Status")}
	if s.cache == "" {
		s.cache = "-"
	}
	r := bufio.NewReader(res.Body)
	for {
		line, err := r.ReadSlice('\n')
		if bytes.HasPrefix(line, []byte("data:")) {
			if s.events == 0 {
				s.first = time.Since(start)
			}
			s.events++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return sample{}, err
		}
	}
	s.last = time.Since(start)
	if s.events == 0 {
		return sample{}, errors.New("no events in the answer")
	}
	return s, nil
}
