package limiter

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{time.Nanosecond, "1ms"},
		{11200 * time.Microsecond, "12ms"},
		{999 * time.Millisecond, "999ms"},
		{time.Second, "1s"},
		{1150 * time.Millisecond, "1.2s"},
		{59*time.Second + 950*time.Millisecond, "1m0s"},
		{4*time.Minute + 12172*time.Millisecond, "4m13s"},
		{time.Hour, "1h0m0s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestParseHeaderStyle(t *testing.T) {
	for in, want := range map[string]HeaderStyle{"": HeadersOpenAI, "openai": HeadersOpenAI, "ietf": HeadersIETF, "none": HeadersNone} {
		if got, err := ParseHeaderStyle(in); err != nil || got != want {
			t.Errorf("ParseHeaderStyle(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseHeaderStyle("draft"); err == nil {
		t.Error("unknown style accepted")
	}
}

// ticketOf builds an admitted ticket with the given statuses.
func ticketOf(statuses ...Status) *Ticket {
	return &Ticket{Allowed: true, statuses: statuses}
}

func TestSetHeaders(t *testing.T) {
	perKey := Status{Zone: "per_key", Kind: KindRequests, Limit: 60, Remaining: 12, Reset: 4800 * time.Millisecond, Window: time.Minute}
	global := Status{Zone: "upstream", Kind: KindRequests, Limit: 10, Remaining: 5, Reset: 250 * time.Millisecond, Window: time.Second}
	conc := Status{Zone: "per_key", Kind: KindConcurrency, Limit: 4, Remaining: 3}
	odd := Status{Zone: `we"ird`, Kind: KindRequests, Limit: 5, Remaining: 5, Window: 1500 * time.Millisecond}
	tpm := Status{Zone: "per_key", Kind: KindTokens, Limit: 90000, Remaining: 45000, Reset: 30 * time.Second, Window: time.Minute}
	gpt4 := Status{Zone: "gpt4", Kind: KindTokens, Limit: 30000, Remaining: 12000, Reset: 36 * time.Second, Window: time.Minute}
	tests := []struct {
		name   string
		ticket *Ticket
		style  HeaderStyle
		want   map[string]string
	}{
		{"openai picks the least remaining in proportion", ticketOf(global, perKey, conc), HeadersOpenAI, map[string]string{
			"X-Ratelimit-Limit-Requests":     "60",
			"X-Ratelimit-Remaining-Requests": "12",
			"X-Ratelimit-Reset-Requests":     "4.8s",
			"Ratelimit":                      "",
		}},
		{"openai is the default", ticketOf(global), "", map[string]string{
			"X-Ratelimit-Limit-Requests":     "10",
			"X-Ratelimit-Remaining-Requests": "5",
			"X-Ratelimit-Reset-Requests":     "250ms",
		}},
		{"openai leaves the upstream's when no rate applied", ticketOf(conc), HeadersOpenAI, map[string]string{
			"X-Ratelimit-Limit-Requests": "upstream",
		}},
		{"ietf lists every limit", ticketOf(perKey, conc, global), HeadersIETF, map[string]string{
			"Ratelimit-Policy":           `"per_key";q=60;w=60, "per_key-concurrency";q=4;qu="concurrent-requests", "upstream";q=10;w=1`,
			"Ratelimit":                  `"per_key";r=12;t=5, "per_key-concurrency";r=3, "upstream";r=5;t=1`,
			"X-Ratelimit-Limit-Requests": "upstream",
		}},
		{"ietf escapes names and whole-second windows", ticketOf(odd), HeadersIETF, map[string]string{
			"Ratelimit-Policy": `"we\"ird";q=6;w=2`,
			"Ratelimit":        `"we\"ird";r=5;t=0`,
		}},
		{"openai sets the tokens trio beside the requests'", ticketOf(perKey, tpm, gpt4, conc), HeadersOpenAI, map[string]string{
			"X-Ratelimit-Limit-Requests":     "60",
			"X-Ratelimit-Remaining-Requests": "12",
			"X-Ratelimit-Limit-Tokens":       "30000",
			"X-Ratelimit-Remaining-Tokens":   "12000",
			"X-Ratelimit-Reset-Tokens":       "36s",
		}},
		{"openai tokens alone leave the upstream's requests trio", ticketOf(tpm), HeadersOpenAI, map[string]string{
			"X-Ratelimit-Limit-Requests": "upstream",
			"X-Ratelimit-Limit-Tokens":   "90000",
		}},
		{"ietf lists token policies", ticketOf(perKey, tpm), HeadersIETF, map[string]string{
			"Ratelimit-Policy": `"per_key";q=60;w=60, "per_key-tokens";q=90000;w=60;qu="tokens"`,
			"Ratelimit":        `"per_key";r=12;t=5, "per_key-tokens";r=45000;t=30`,
		}},
		{"none", ticketOf(perKey), HeadersNone, map[string]string{
			"X-Ratelimit-Limit-Requests": "upstream",
			"Ratelimit":                  "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Ratelimit-Limit-Requests", "upstream")
			tt.ticket.SetHeaders(h, tt.style)
			for k, v := range tt.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
				if len(h.Values(k)) > 1 {
					t.Errorf("%s set %d times", k, len(h.Values(k)))
				}
			}
		})
	}
}

func TestMiddlewareReplacesUpstreamHeaders(t *testing.T) {
	upstream := func(w http.ResponseWriter, code int) {
		w.Header().Set("X-Ratelimit-Limit-Requests", "10000")
		w.Header().Set("X-Ratelimit-Remaining-Requests", "9999")
		w.Header().Set("X-Ratelimit-Limit-Tokens", "2000000")
		w.WriteHeader(code)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"WriteHeader", func(w http.ResponseWriter, _ *http.Request) { upstream(w, http.StatusOK) }},
		{"Write alone", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Ratelimit-Limit-Requests", "10000")
			_, _ = w.Write([]byte("ok"))
		}},
		{"nothing written", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Ratelimit-Limit-Requests", "10000")
		}},
		{"after an informational answer", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			upstream(w, http.StatusOK)
		}},
		{"an upstream error", func(w http.ResponseWriter, _ *http.Request) { upstream(w, http.StatusBadGateway) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, Zone{Name: "per_key", Requests: Rate{Count: 60, Per: time.Minute}})
			srv := serve(t, l, HeadersOpenAI, tt.handler)
			a := get(context.Background(), srv.URL, "k")
			if a.err != nil {
				t.Fatal(a.err)
			}
			if got := a.header.Values("X-Ratelimit-Limit-Requests"); len(got) != 1 || got[0] != "60" {
				t.Fatalf("x-ratelimit-limit-requests %q, want only 60", got)
			}
			if got := a.header.Get("X-Ratelimit-Remaining-Requests"); got != "59" {
				t.Fatalf("x-ratelimit-remaining-requests %q, want 59", got)
			}
		})
	}
}

func TestMiddlewareStreams(t *testing.T) {
	l := newLimiter(t, Zone{Name: "per_key", Requests: Rate{Count: 60, Per: time.Minute}})
	next := make(chan struct{})
	var once sync.Once
	finish := func() { once.Do(func() { close(next) }) }
	srv := serve(t, l, HeadersOpenAI, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: {}\n\n"))
		w.(http.Flusher).Flush()
		<-next // the first event must arrive before the answer ends
		_, _ = w.Write([]byte("data: [DONE]\n\n"))
	}))
	t.Cleanup(finish) // runs before the server closes, which waits for the handler
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("X-Ratelimit-Limit-Requests"); got != "60" {
		t.Fatalf("x-ratelimit-limit-requests %q on a stream", got)
	}
	r := bufio.NewReader(res.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "data: {}\n" {
		t.Fatalf("first event %q, %v", line, err)
	}
	finish()
	rest, _ := r.ReadString(0)
	if !strings.Contains(rest, "[DONE]") {
		t.Fatalf("rest of the stream %q", rest)
	}
}

// TestAppendDuration writes what time.Duration.String writes of the
// rounded duration.
func TestAppendDuration(t *testing.T) {
	for _, d := range []time.Duration{
		-1, 0, 1, 999 * time.Microsecond, time.Millisecond, 12*time.Millisecond + 1, 999 * time.Millisecond, 999*time.Millisecond + 1,
		time.Second, 1150 * time.Millisecond, 1200 * time.Millisecond, 59*time.Second + 950*time.Millisecond, 59*time.Second + 950*time.Millisecond + 1,
		time.Minute, time.Minute + 1, 4*time.Minute + 12172*time.Millisecond, time.Hour, time.Hour + 1, 27*time.Hour + 3*time.Minute, 400 * 24 * time.Hour,
	} {
		var want time.Duration
		switch {
		case d <= 0:
		case d < time.Second:
			want = ceilTo(d, time.Millisecond)
		case d < time.Minute:
			want = ceilTo(d, 100*time.Millisecond)
		default:
			want = ceilTo(d, time.Second)
		}
		if got := string(appendDuration(nil, d)); got != want.String() {
			t.Errorf("appendDuration(%d) = %q, want %q", d, got, want.String())
		}
	}
}
