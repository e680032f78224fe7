package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMeasure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			for i := range 3 {
				fmt.Fprintf(w, "data: {\"i\":%d}\n\n", i)
				w.(http.Flusher).Flush()
			}
			fmt.Fprint(w, "data: [DONE]\n\n")
		case "/empty":
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "nope", http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	tests := []struct {
		path       string
		wantEvents int
		wantErr    bool
	}{
		{path: "/stream", wantEvents: 4},
		{path: "/empty", wantErr: true},
		{path: "/limited", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			s, err := measure(srv.Client(), srv.URL+tt.path, http.Header{}, "{}")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (s.events != tt.wantEvents || s.first <= 0 || s.last < s.first) {
				t.Fatalf("sample %+v, want %d events", s, tt.wantEvents)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		xs   []time.Duration
		p    int
		want time.Duration
	}{
		{xs: nil, p: 50, want: 0},
		{xs: []time.Duration{3, 1, 2}, p: 50, want: 2},
		{xs: []time.Duration{4, 1, 3, 2}, p: 50, want: 2},
		{xs: []time.Duration{5, 1, 4, 2, 3}, p: 99, want: 5},
		{xs: []time.Duration{7}, p: 1, want: 7},
	}
	for _, tt := range tests {
		if got := percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %d) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}
