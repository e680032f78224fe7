package sse

import (
	"mime"
	"testing"
)

// TestMediaType reads the media type as mime.ParseMediaType does, for
// the values answers carry.
func TestMediaType(t *testing.T) {
	for _, ct := range []string{
		"text/event-stream", "text/event-stream; charset=utf-8", " Text/Event-Stream ;charset=UTF-8",
		"application/json", "application/json; charset=utf-8", "application/vnd.api+json", "",
	} {
		want, _, _ := mime.ParseMediaType(ct)
		if got := MediaType(ct); got != want {
			t.Errorf("MediaType(%q) = %q, want %q", ct, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { MediaType("text/event-stream; charset=utf-8") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
