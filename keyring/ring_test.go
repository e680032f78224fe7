package keyring

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func testRing(t testing.TB) *Ring {
	t.Helper()
	r, err := NewRing([]Key{
		{SHA256: Hash("sk-good"), Team: "ci", Tier: "bronze", Models: []string{"gpt-4o-mini", "claude-3-5-haiku*"}},
		{SHA256: strings.ToUpper(Hash("sk-other")), Team: "research"},
		{SHA256: Hash("sk-old"), Team: "ci", Expires: "2026-12-01"},
		{SHA256: Hash("sk-late"), Team: "ci", Expires: "2026-12-02T12:00:01Z"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheck(t *testing.T) {
	ring := testRing(t)
	for _, tc := range []struct {
		name   string
		header []string
		team   string
		err    error
	}{
		{"bearer", []string{"Authorization", "Bearer sk-good"}, "ci", nil},
		{"bearer any case, spaced", []string{"Authorization", "  bearer   sk-good "}, "ci", nil},
		{"bearer and a tab", []string{"Authorization", "Bearer\t sk-good\t"}, "ci", nil},
		{"a tab-spaced bearer beside the key", []string{"Authorization", "bearer\tsk-good", "X-Api-Key", "sk-good"}, "ci", nil},
		{"x-api-key", []string{"X-Api-Key", "sk-other"}, "research", nil},
		{"api-key", []string{"Api-Key", "sk-good"}, "ci", nil},
		{"the same key twice", []string{"Authorization", "Bearer sk-good", "X-Api-Key", "sk-good"}, "ci", nil},
		{"not yet expired", []string{"X-Api-Key", "sk-late"}, "ci", nil},
		{"none", nil, "", ErrNoKey},
		{"empty", []string{"Authorization", "Bearer "}, "", ErrNoKey},
		{"unknown", []string{"Authorization", "Bearer sk-nobody"}, "", ErrUnknownKey},
		{"another scheme is no bearer token", []string{"Authorization", "Basic sk-good"}, "", ErrUnknownKey},
		{"a bare key in Authorization is no bearer token", []string{"Authorization", "sk-good"}, "", ErrUnknownKey},
		{"a bare Authorization beside the key", []string{"Authorization", "sk-good", "X-Api-Key", "sk-good"}, "", ErrSeveralKeys},
		{"expired", []string{"X-Api-Key", "sk-old"}, "", ErrExpired},
		{"two keys", []string{"Authorization", "Bearer sk-good", "X-Api-Key", "sk-other"}, "", ErrSeveralKeys},
		{"a good key and a made-up one", []string{"Authorization", "Bearer sk-good", "Api-Key", "sk-made-up"}, "", ErrSeveralKeys},
		{"two values of one header", []string{"X-Api-Key", "sk-good", "X-Api-Key", "sk-other"}, "", ErrSeveralKeys},
		{"a header not read", []string{"X-Goog-Api-Key", "sk-good"}, "", ErrNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
			for i := 0; i+1 < len(tc.header); i += 2 {
				r.Header.Add(tc.header[i], tc.header[i+1])
			}
			id, err := ring.Admit(r, now)
			if !errors.Is(err, tc.err) || (err == nil) != (id != nil) || id != nil && id.Team != tc.team {
				t.Fatalf("Admit = %+v, %v; want team %q, %v", id, err, tc.team, tc.err)
			}
			if id != nil && (len(id.KeyID) != 12 || strings.Contains(Hash("sk-good"), "sk-good")) {
				t.Fatalf("key id %q", id.KeyID)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	ring := testRing(t)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Authorization", "Bearer sk-good")
	id, _ := ring.Admit(r, now)
	for model, want := range map[string]bool{
		"gpt-4o-mini": true, "GPT-4o-Mini": true, "claude-3-5-haiku-latest": true,
		"gpt-4o": false, "": false,
	} {
		if got := id.Allows(model); got != want {
			t.Errorf("Allows(%q) = %v, want %v", model, got, want)
		}
	}
	r.Header.Set("Authorization", "Bearer sk-other")
	if id, _ := ring.Admit(r, now); !id.Allows("anything") || !id.Allows("") {
		t.Error("a key without a model list allows every model")
	}
}

func TestNewRingRefuses(t *testing.T) {
	for _, tc := range []struct {
		keys []Key
		want string
	}{
		{[]Key{{SHA256: "abc", Team: "x"}}, "want 64 hex digits"},
		{[]Key{{SHA256: strings.Repeat("z", 64), Team: "x"}}, "want 64 hex digits"},
		{[]Key{{SHA256: Hash("a")}}, "no team"},
		{[]Key{{SHA256: Hash("a"), Team: "x", Expires: "soon"}}, "expires"},
		{[]Key{{SHA256: Hash("a"), Team: "x"}, {SHA256: strings.ToUpper(Hash("a")), Team: "y"}}, "key 2 (" + Hash("a")[:12] + "): the same key is given twice"},
	} {
		if _, err := NewRing(tc.keys, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewRing(%+v) = %v, want %q", tc.keys, err, tc.want)
		}
	}
}

// TestAdmitStrips: an admitted key is removed, from the Ring's headers
// and wherever else the request carries it; other values stay, and a
// refused request is left as it is.
func TestAdmitStrips(t *testing.T) {
	ring, _ := NewRing([]Key{{SHA256: Hash("k"), Team: "t"}}, []string{"authorization", "X-Api-Key"})
	r := httptest.NewRequest("POST", "/?key=k&alt=sse&api_key=k", nil)
	r.Header.Set("Authorization", "Bearer k")
	r.Header.Set("X-Api-Key", "k")
	r.Header.Set("Api-Key", "kept")
	r.Header.Set("X-Goog-Api-Key", "k")
	if _, err := ring.Admit(r, now); err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" || r.Header.Get("Api-Key") != "kept" {
		t.Fatalf("headers left: %v", r.Header)
	}
	// The key where the Ring does not read keys goes too.
	if r.Header.Get("X-Goog-Api-Key") != "" || r.URL.RawQuery != "alt=sse" {
		t.Fatalf("the key left in %v, ?%s", r.Header, r.URL.RawQuery)
	}
	refused := httptest.NewRequest("POST", "/", nil)
	refused.Header.Set("Authorization", "Bearer other")
	if _, err := ring.Admit(refused, now); err == nil || refused.Header.Get("Authorization") != "Bearer other" {
		t.Fatalf("refused: %v, headers %v", err, refused.Header)
	}
}

func TestNew(t *testing.T) {
	a, b := New(), New()
	if a == b || !strings.HasPrefix(a, "sk-llmgate-") || len(a) != len("sk-llmgate-")+64 {
		t.Fatalf("keys %q %q", a, b)
	}
}

// BenchmarkAdmit: a request with a good key among a thousand keys, each
// as New makes them.
func BenchmarkAdmit(b *testing.B) {
	keys := make([]Key, 1000)
	var good string
	for i := range keys {
		k := New()
		keys[i] = Key{SHA256: Hash(k), Team: "t"}
		if i == 500 {
			good = k
		}
	}
	ring, err := NewRing(keys, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	auth := []string{"Bearer " + good}
	b.ReportAllocs()
	for b.Loop() {
		r.Header["Authorization"] = auth // Admit removed it
		if _, err := ring.Admit(r, now); err != nil {
			b.Fatal(err)
		}
	}
}
