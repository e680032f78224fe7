package limiter

import (
	"strings"
	"testing"
	"time"
)

func TestNewRejectsBadZones(t *testing.T) {
	perMin := Rate{Count: 60, Per: time.Minute}
	tests := []struct {
		name  string
		zones []Zone
		want  string
	}{
		{"no name", []Zone{{Requests: perMin}}, "without a name"},
		{"twice", []Zone{{Name: "a", Requests: perMin}, {Name: "a", Requests: perMin}}, "defined twice"},
		{"nothing to limit", []Zone{{Name: "a"}}, "limits nothing"},
		{"zero count", []Zone{{Name: "a", Requests: Rate{Per: time.Minute}}}, "needs both"},
		{"zero period", []Zone{{Name: "a", Requests: Rate{Count: 5}}}, "needs both"},
		{"negative count", []Zone{{Name: "a", Requests: Rate{Count: -1, Per: time.Second}}}, "negative request rate"},
		{"negative burst", []Zone{{Name: "a", Requests: perMin, Burst: -1}}, "negative burst"},
		{"negative wait", []Zone{{Name: "a", Requests: perMin, MaxWait: -time.Second}}, "negative max_wait"},
		{"negative concurrency", []Zone{{Name: "a", Requests: perMin, Concurrency: -2}}, "negative concurrency"},
		{"unknown algorithm", []Zone{{Name: "a", Requests: perMin, Algorithm: "sliding"}}, "unknown algorithm"},
		{"burst on a window", []Zone{{Name: "a", Requests: perMin, Burst: 5, Algorithm: FixedWindow}}, "burst does not apply"},
		{"burst without rate", []Zone{{Name: "a", Concurrency: 1, Burst: 5}}, "burst without"},
		{"burst too deep", []Zone{{Name: "a", Requests: Rate{Count: 1, Per: 24 * time.Hour}, Burst: 1 << 40}}, "too far ahead"},
		{"negative tokens", []Zone{{Name: "a", Tokens: Rate{Count: -1, Per: time.Minute}}}, "negative token rate"},
		{"tokens without period", []Zone{{Name: "a", Tokens: Rate{Count: 1000}}}, "token rate 1000 per 0s needs both"},
		{"burst on tokens alone", []Zone{{Name: "a", Tokens: Rate{Count: 1000, Per: time.Minute}, Burst: 10}}, "burst without a request rate"},
		{"tokens too far ahead", []Zone{{Name: "a", Tokens: Rate{Count: 2, Per: maxHorizon}}}, "token rate"},
		{"negative cost", []Zone{{Name: "a", Cost: Rate{Count: -1, Per: time.Hour}}}, "negative cost rate"},
		{"input tokens without period", []Zone{{Name: "a", TokensIn: Rate{Count: 5}}}, "input token rate 5 per 0s needs both"},
		{"output tokens too far ahead", []Zone{{Name: "a", TokensOut: Rate{Count: 2, Per: maxHorizon}}}, "output token rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.zones, Options{})
			if err == nil {
				_ = l.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestZoneDefaults(t *testing.T) {
	tests := []struct {
		name      string
		zone      Zone
		interval  time.Duration
		tolerance time.Duration
	}{
		{"token bucket depth defaults to the count", Zone{Name: "a", Requests: Rate{Count: 60, Per: time.Minute}},
			time.Second, 60 * time.Second},
		{"token bucket with burst", Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Second}, Burst: 3},
			100 * time.Millisecond, 300 * time.Millisecond},
		{"interval rounds up", Zone{Name: "a", Requests: Rate{Count: 3, Per: time.Second}, Burst: 3},
			333333334, 1000000002},
		{"leaky bucket reaches one interval past its queue", Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Second}, Burst: 20, Algorithm: LeakyBucket},
			100 * time.Millisecond, 2100 * time.Millisecond},
		{"leaky bucket bounded by max wait", Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Second}, Burst: 20, Algorithm: LeakyBucket, MaxWait: 500 * time.Millisecond},
			100 * time.Millisecond, 600 * time.Millisecond},
		{"concurrency only", Zone{Name: "a", Concurrency: 2}, 0, 0},
		{"tokens only", Zone{Name: "a", Tokens: Rate{Count: 90000, Per: time.Minute}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := newZone(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			// The tolerance is the limit a one-request charge is held to.
			m := &z.meters[requestMeter]
			if tolerance := m.limit(m.interval); m.interval != tt.interval || tolerance != tt.tolerance {
				t.Fatalf("interval %d tolerance %d, want %d and %d", m.interval, tolerance, tt.interval, tt.tolerance)
			}
			if z.Algorithm != TokenBucket && tt.zone.Algorithm == "" {
				t.Fatalf("algorithm %q, want the default", z.Algorithm)
			}
		})
	}
}

func TestTokenMeterDefaults(t *testing.T) {
	tests := []struct {
		name            string
		zone            Zone
		interval, depth time.Duration
		leaky           bool
	}{
		{"the bucket holds one period's tokens", Zone{Name: "a", Tokens: Rate{Count: 90000, Per: time.Minute}},
			666667, 90000 * 666667, false},
		{"burst is for requests only", Zone{Name: "a", Requests: Rate{Count: 10, Per: time.Second}, Burst: 1, Tokens: Rate{Count: 1000, Per: time.Second}},
			time.Millisecond, time.Second, false},
		{"leaky waits up to max wait", Zone{Name: "a", Tokens: Rate{Count: 1000, Per: time.Second}, Algorithm: LeakyBucket, MaxWait: 250 * time.Millisecond},
			time.Millisecond, 250 * time.Millisecond, true},
		{"leaky waits up to the bucket", Zone{Name: "a", Tokens: Rate{Count: 1000, Per: time.Second}, Algorithm: LeakyBucket},
			time.Millisecond, time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := newZone(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			m := z.meters[tokenMeter]
			if m.interval != tt.interval || m.depth != tt.depth || m.leaky != tt.leaky || m.tweak != meterTweaks[tokenMeter] {
				t.Fatalf("interval %d depth %d leaky %v, want %d %d %v", m.interval, m.depth, m.leaky, tt.interval, tt.depth, tt.leaky)
			}
		})
	}
}

func TestMeterCost(t *testing.T) {
	tests := []struct {
		name string
		rate Rate
		n    int64
		want time.Duration
	}{
		{"n intervals", Rate{Count: 1000, Per: time.Second}, 300, 300 * time.Millisecond},
		{"none", Rate{Count: 1000, Per: time.Second}, 0, 0},
		{"bounded", Rate{Count: 1000, Per: time.Second}, 1 << 62, maxCost / time.Millisecond * time.Millisecond},
		{"one unit of a very slow rate", Rate{Count: 1, Per: 20 * 365 * 24 * time.Hour}, 1, 20 * 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := newZone(Zone{Name: "a", Tokens: tt.rate})
			if err != nil {
				t.Fatal(err)
			}
			if got := z.meters[tokenMeter].cost(tt.n); got != tt.want {
				t.Fatalf("cost(%d) = %s, want %s", tt.n, got, tt.want)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	if got := (Rate{Count: 60, Per: time.Minute}).String(); got != "60 per 1m0s" {
		t.Fatalf("got %q", got)
	}
}

func TestZonesAreDecidedTightestFirst(t *testing.T) {
	l := newLimiter(t,
		Zone{Name: "fast", Requests: Rate{Count: 100, Per: time.Second}},
		Zone{Name: "conc", Concurrency: 1},
		Zone{Name: "daily", Requests: Rate{Count: 1000, Per: 24 * time.Hour}, Algorithm: FixedWindow},
		Zone{Name: "minute", Requests: Rate{Count: 60, Per: time.Minute}},
	)
	var got []string
	for _, z := range l.zones {
		got = append(got, z.Name)
	}
	if strings.Join(got, " ") != "daily minute fast conc" {
		t.Fatalf("order %v", got)
	}
}
