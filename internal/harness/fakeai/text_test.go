package fakeai

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want []string
	}{
		{"abcdef", 3, []string{"ab", "cd", "ef"}},
		{"abcdefg", 3, []string{"ab", "cd", "efg"}},
		{"héllo", 2, []string{"hé", "llo"}},
		{"ab", 4, []string{"", "a", "", "b"}},
		{"", 2, []string{"", ""}},
	}
	for _, tt := range tests {
		got := split(tt.s, tt.n)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != tt.n {
			t.Errorf("split(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("echo: héllo wörld #12", 5)
	f.Add("日本語のテキスト", 3)
	f.Add("\xff\xfe broken", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 1 + abs(n)%64
		parts := split(s, n)
		if len(parts) != n || strings.Join(parts, "") != s {
			t.Fatalf("split(%q, %d) = %q", s, n, parts)
		}
		for _, p := range parts {
			if utf8.ValidString(s) && !utf8.ValidString(p) {
				t.Fatalf("split cut a rune: %q", parts)
			}
		}
		if cut := truncate(s, n); len(cut) > n || !strings.HasPrefix(s, cut) || (utf8.ValidString(s) && !utf8.ValidString(cut)) {
			t.Fatalf("truncate(%q, %d) = %q", s, n, cut)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s     string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes
		{"é", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.limit); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.limit, got, tt.want)
		}
	}
}

func TestParseKnobs(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		check   func(knobs) bool
		wantErr string
	}{
		{name: "defaults", check: func(k knobs) bool { return k == defaultKnobs() }},
		{name: "all", headers: map[string]string{
			"x-fake-status": "503", "x-fake-retry-after-ms": "10", "x-fake-usage": " 3 , 4 ", "x-fake-no-usage": "1",
			"x-fake-delay": "5ms", "x-fake-chunks": "9", "x-fake-die-after": "2", "x-fake-gzip": "1", "Accept-Encoding": "gzip",
			"x-fake-echo-key": "1", "x-fake-size": "100", "x-fake-cached": "2", "x-fake-cache-write": "7",
		}, check: func(k knobs) bool {
			return k.status == 503 && k.retryAfterMS == 10 && *k.usage == usage{prompt: 3, completion: 4} && k.noUsage && k.delay == 5*time.Millisecond &&
				k.chunks == 9 && k.dieAfter == 2 && k.gzip && k.echoKey && k.size == 100 && k.cached == 2 && k.cacheWrite == 7
		}},
		{name: "gzip not accepted", headers: map[string]string{"x-fake-gzip": "1"}, check: func(k knobs) bool { return !k.gzip }},
		{name: "bad status", headers: map[string]string{"x-fake-status": "abc"}, wantErr: "x-fake-status"},
		{name: "negative delay", headers: map[string]string{"x-fake-delay": "-1s"}, wantErr: "x-fake-delay"},
		{name: "usage not a pair", headers: map[string]string{"x-fake-usage": "5"}, wantErr: "x-fake-usage"},
		{name: "size too big", headers: map[string]string{"x-fake-size": "999999999999"}, wantErr: "x-fake-size"},
		{name: "two errors", headers: map[string]string{"x-fake-chunks": "0", "x-fake-die-after": "-1"}, wantErr: "x-fake-die-after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			k, err := parseKnobs(h)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one mentioning %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(k) {
				t.Fatalf("knobs %+v, err %v", k, err)
			}
		})
	}
}
