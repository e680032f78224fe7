package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
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
