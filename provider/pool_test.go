package provider

import (
	"net/http"
	"testing"
	"time"
)

func TestReadHints(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		header   map[string]string
		cooldown time.Duration
		requests limit
		tokens   limit
	}{
		{"retry-after-ms first", map[string]string{"Retry-After-Ms": "1500", "Retry-After": "20"}, 1500 * time.Millisecond, limit{-1, 0}, limit{-1, 0}},
		{"retry-after seconds", map[string]string{"Retry-After": "20"}, 20 * time.Second, limit{-1, 0}, limit{-1, 0}},
		{"retry-after date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, limit{-1, 0}, limit{-1, 0}},
		{"openai resets, tokens spent", map[string]string{
			"X-Ratelimit-Remaining-Requests": "59", "X-Ratelimit-Reset-Requests": "1s",
			"X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "6m0s",
		}, 6 * time.Minute, limit{59, time.Second}, limit{0, 6 * time.Minute}},
		{"anthropic resets", map[string]string{
			"Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": now.Add(42 * time.Second).Format(time.RFC3339),
			"Anthropic-Ratelimit-Tokens-Remaining": "12000", "Anthropic-Ratelimit-Tokens-Reset": now.Add(5 * time.Second).Format(time.RFC3339),
		}, 42 * time.Second, limit{0, 42 * time.Second}, limit{12000, 5 * time.Second}},
		{"nothing said", map[string]string{}, time.Second, limit{-1, 0}, limit{-1, 0}},
		{"garbage", map[string]string{"Retry-After-Ms": "soon", "Retry-After": "-5", "X-Ratelimit-Remaining-Requests": "many"}, time.Second, limit{-1, 0}, limit{-1, 0}},
		{"a year is a day", map[string]string{"Retry-After": "31536000"}, maxCooldown, limit{-1, 0}, limit{-1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			hs := readHints(h, now)
			if hs.cooldown() != tc.cooldown || hs.requests != tc.requests || hs.tokens != tc.tokens {
				t.Errorf("cooldown %s requests %+v tokens %+v; want %s %+v %+v", hs.cooldown(), hs.requests, hs.tokens, tc.cooldown, tc.requests, tc.tokens)
			}
		})
	}
}

func newTestPool(t *testing.T, sel Select, secrets ...string) *Pool {
	t.Helper()
	p, err := NewPool(secrets, sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPickSpreadsAndAvoids(t *testing.T) {
	now := time.Now()
	p := newTestPool(t, RoundRobin, "a", "b", "c")
	seen := map[string]int{}
	for range 30 {
		k, _, _ := p.pick(now, 0, 0)
		seen[k.secret]++
	}
	if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 {
		t.Errorf("round robin picked %v, want 10 each", seen)
	}
	// A key tried in this request comes last.
	for range 10 {
		if k, _, _ := p.pick(now, 0, 0b011); k.secret != "c" {
			t.Fatalf("with a and b tried, picked %s", k.secret)
		}
	}
	if k, _, _ := p.pick(now, 0, 0b111); k == nil {
		t.Error("every key tried: none picked, want a tried one again")
	}

	// Least busy: the key with fewest in flight.
	p = newTestPool(t, LeastBusy, "a", "b", "c")
	p.keys[0].inflight.Store(3)
	p.keys[2].inflight.Store(1)
	for range 10 {
		if k, _, _ := p.pick(now, 0, 0); k.secret != "b" {
			t.Fatalf("least busy picked %s, want b", k.secret)
		}
	}
}

func TestLearnTakesKeysOut(t *testing.T) {
	now := time.Now()
	var told []string
	p, _ := NewPool([]string{"a", "b"}, LeastBusy, func(id string, until time.Time) { told = append(told, id) })
	a, b := p.keys[0], p.keys[1]
	h := http.Header{}
	h.Set("Retry-After", "20")
	p.learn(a, 429, h, now)
	if len(told) != 1 || told[0] != a.ID {
		t.Errorf("cooldowns told: %v, want a's", told)
	}
	for range 5 {
		if k, _, _ := p.pick(now.Add(19*time.Second), 0, 0); k != b {
			t.Fatal("a key within its 429 wait was picked")
		}
	}
	if k, _, _ := p.pick(now.Add(21*time.Second), 0, 1<<1); k != a {
		t.Error("a key past its 429 wait is not picked")
	}
	// b reports its tokens nearly spent: a request estimated above what is
	// left passes it over until the reset; a small one still fits.
	h = http.Header{}
	h.Set("X-Ratelimit-Remaining-Tokens", "500")
	h.Set("X-Ratelimit-Reset-Tokens", "30s")
	p.learn(b, 200, h, now)
	if k, _, back := p.pick(now.Add(time.Second), 2000, 0); k != nil || !back.Equal(now.Add(20*time.Second)) {
		t.Errorf("big request: picked %v, back %s; want none until a's return", k, back.Sub(now))
	}
	if k, _, _ := p.pick(now.Add(time.Second), 100, 0); k != b {
		t.Error("a small request is refused a key with room for it")
	}
	// Neither a 403 nor a 401 takes a key out by itself.
	p.learn(a, 403, http.Header{}, now)
	p.learn(a, 401, http.Header{}, now)
	if k, _, _ := p.pick(now.Add(time.Hour), 0, 1<<1); k != a {
		t.Error("a 401 or 403 alone took a key out")
	}
	// A revoked key never comes back.
	if !p.revoke(a) || p.revoke(a) {
		t.Error("revoke reports a revocation once")
	}
	if k, _, back := p.pick(now.Add(time.Hour), 0, 1<<1); k != b || !back.IsZero() {
		t.Errorf("after a's 401: picked %v, back %v; want b", k, back)
	}
}

func TestNewPoolRefusesBadKeys(t *testing.T) {
	for _, keys := range [][]string{nil, {""}, {"a", "a"}, make([]string, MaxKeys+1)} {
		if _, err := NewPool(keys, LeastBusy, nil); err == nil {
			t.Errorf("NewPool(%d keys %q) = nil error", len(keys), keys)
		}
	}
}

// BenchmarkPick is the choice of a key for one request, three keys, one
// of them in flight.
func BenchmarkPick(b *testing.B) {
	p, _ := NewPool([]string{"a", "b", "c"}, LeastBusy, nil)
	p.keys[1].inflight.Store(1)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if k, _, _ := p.pick(now, 1000, 0); k == nil {
			b.Fatal("none")
		}
	}
}

// TestCooldownFromElsewhereEndsWithinADay: a cooldown another instance
// tells, however far off, ends within a day, as one learnt here does.
func TestCooldownFromElsewhereEndsWithinADay(t *testing.T) {
	p, _ := NewPool([]string{"a"}, LeastBusy, nil)
	p.Cooldown(Fingerprint("a"), time.UnixMilli(1<<52))
	now := time.Now()
	if k, _, back := p.pick(now, 0, 0); k != nil || back.Sub(now) > maxCooldown {
		t.Errorf("picked %v, back in %s; want none, back within %s", k, back.Sub(now), maxCooldown)
	}
}
