package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Select is how a Pool chooses among its usable keys.
type Select string

// The selections.
const (
	// LeastBusy picks the usable key with the fewest requests in flight,
	// taking turns among equals. The default.
	LeastBusy Select = "least_busy"
	// RoundRobin takes the usable keys in turn.
	RoundRobin Select = "round_robin"
)

// ParseSelect reads a selection name; the empty name is LeastBusy.
func ParseSelect(s string) (Select, error) {
	switch sel := Select(s); sel {
	case "":
		return LeastBusy, nil
	case LeastBusy, RoundRobin:
		return sel, nil
	}
	return "", fmt.Errorf("unknown select %q (want least_busy or round_robin)", s)
}

// MaxKeys bounds a pool's keys.
const MaxKeys = 64

// Key is one key of a Pool, and what the pool has learnt of it from the
// provider's answers.
type Key struct {
	secret string
	// ID is the key's fingerprint, the first 12 hex digits of its
	// SHA-256: what logs and metrics name it by, never the key.
	ID string

	inflight atomic.Int64

	mu sync.Mutex
	// until is when a key that answered 429 comes back.
	until time.Time
	// revoked is set for a key the provider refused (401): it stays
	// out until the pool is built again.
	revoked bool
	// requests and tokens are what the key had left, by its last answer,
	// and until when.
	requests, tokens remaining
}

// remaining is a count a key has left until a time.
type remaining struct {
	left  int64
	until time.Time
}

// Fingerprint is the ID of a key: the first 12 hex digits of its SHA-256.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// usable reports whether k may take a request estimated at estimate
// tokens at now; when not, back is when it may again (zero when never).
func (k *Key) usable(now time.Time, estimate int64) (ok bool, back time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.revoked:
		return false, time.Time{}
	case now.Before(k.until):
		return false, k.until
	case k.requests.left == 0 && now.Before(k.requests.until):
		return false, k.requests.until
	case estimate > 0 && k.tokens.left >= 0 && k.tokens.left < estimate && now.Before(k.tokens.until):
		return false, k.tokens.until
	}
	return true, time.Time{}
}

// Pool is a set of provider keys. It is safe for concurrent use.
type Pool struct {
	keys []*Key
	sel  Select
	turn atomic.Uint64
	// onCooldown, when set, is told of every key that sits out, to tell
	// other instances.
	onCooldown func(id string, until time.Time)
}

// NewPool returns a pool of the given keys, none empty, none twice, at
// most MaxKeys. onCooldown, when not nil, is told each time a key is
// taken out for a while (a 429), with its ID and when it comes back.
func NewPool(secrets []string, sel Select, onCooldown func(id string, until time.Time)) (*Pool, error) {
	if len(secrets) == 0 {
		return nil, errors.New("provider: no key")
	}
	if len(secrets) > MaxKeys {
		return nil, fmt.Errorf("provider: %d keys, at most %d", len(secrets), MaxKeys)
	}
	p := &Pool{sel: sel, onCooldown: onCooldown}
	seen := map[string]bool{}
	for i, s := range secrets {
		switch {
		case s == "":
			return nil, fmt.Errorf("provider: key %d is empty (an unset variable?)", i+1)
		case seen[s]:
			return nil, fmt.Errorf("provider: key %d (%s) given twice", i+1, Fingerprint(s))
		}
		seen[s] = true
		k := &Key{secret: s, ID: Fingerprint(s)}
		k.requests.left, k.tokens.left = -1, -1
		p.keys = append(p.keys, k)
	}
	return p, nil
}

// NewKeylessPool returns a pool of one entry that stands for no key, for
// an upstream that takes none (Auth None): what its answers say, a 429's
// wait, still holds requests back. The entry's ID is "none".
func NewKeylessPool(onCooldown func(id string, until time.Time)) *Pool {
	k := &Key{ID: "none"}
	k.requests.left, k.tokens.left = -1, -1
	return &Pool{keys: []*Key{k}, sel: LeastBusy, onCooldown: onCooldown}
}

// Keys returns the pool's keys, in the order given.
func (p *Pool) Keys() []*Key { return p.keys }

// pick chooses the key of an attempt at now for a request estimated at
// estimate tokens: a usable key whose bit in tried is clear, by the pool's
// selection, else a usable one already tried. When none is usable, k is
// nil and back is the earliest time one will be (zero when none ever
// will).
func (p *Pool) pick(now time.Time, estimate int64, tried uint64) (k *Key, i int, back time.Time) {
	n := len(p.keys)
	start := int(p.turn.Add(1) % uint64(n))
	best, bestTried := -1, -1
	for j := range n {
		idx := (start + j) % n
		key := p.keys[idx]
		ok, when := key.usable(now, estimate)
		if !ok {
			if !when.IsZero() && (back.IsZero() || when.Before(back)) {
				back = when
			}
			continue
		}
		slot := &best
		if tried&(1<<idx) != 0 {
			slot = &bestTried
		}
		if *slot < 0 || p.sel == LeastBusy && key.inflight.Load() < p.keys[*slot].inflight.Load() {
			*slot = idx
		}
	}
	if best < 0 {
		best = bestTried
	}
	if best < 0 {
		return nil, -1, back
	}
	return p.keys[best], best, time.Time{}
}

// learn records what an answer of status with header h, to a request sent
// with k at now, says of k:
//   - a 429 takes k out until the provider's reset, unless the answer
//     says k has requests and tokens left: the request was too large for
//     it (OpenAI's "Request too large"), not k spent, and what it has left
//     keeps larger requests away (see usable);
//   - an answer below 400 (or that 429) records what k has left.
//
// A 401 says nothing here: it may be the request's (a restricted key's
// missing scope), and revoke decides on it.
func (p *Pool) learn(k *Key, status int, h http.Header, now time.Time) {
	hs := readHints(h, now)
	roomy := hs.tokens.left > 0 && hs.requests.left != 0
	k.mu.Lock()
	var cooled time.Time
	if status == http.StatusTooManyRequests && !roomy {
		k.until = now.Add(hs.cooldown())
		cooled = k.until
	}
	if status < http.StatusBadRequest || status == http.StatusTooManyRequests && roomy {
		for _, u := range []struct {
			to *remaining
			l  limit
		}{{&k.requests, hs.requests}, {&k.tokens, hs.tokens}} {
			if u.l.left >= 0 {
				*u.to = remaining{left: u.l.left, until: now.Add(u.l.reset)}
			}
		}
	}
	k.mu.Unlock()
	if !cooled.IsZero() && p.onCooldown != nil {
		p.onCooldown(k.ID, cooled)
	}
}

// revoke takes k out of the pool until it is built again: the provider
// refused it (401) where another key of the pool served the same request.
// It reports whether k was in the pool until now.
func (p *Pool) revoke(k *Key) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	was := !k.revoked
	k.revoked = true
	return was
}

// Cooldown takes the key of id out of the pool until then, as another
// instance learnt: a later time than the key's own is kept. Like a wait
// learnt here, it ends within a day: a corrupt or skewed time from
// elsewhere cannot take a key out for good.
func (p *Pool) Cooldown(id string, until time.Time) {
	until = minTime(until, time.Now().Add(maxCooldown))
	for _, k := range p.keys {
		if k.ID == id {
			k.mu.Lock()
			if until.After(k.until) {
				k.until = until
			}
			k.mu.Unlock()
		}
	}
}

// minTime is the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
