package redisclient

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		opts    Options
		network string
		addr    string
		db      int
		pool    int
		read    time.Duration
		dial    time.Duration
		budget  time.Duration
		prefix  string
		tls     bool
	}{
		{"defaults", "redis://127.0.0.1:6379/0", Options{},
			"tcp", "127.0.0.1:6379", 0, DefaultPoolSize, DefaultReadTimeout, DefaultDialTimeout, DefaultCommandTimeout, DefaultKeyPrefix, false},
		{"host only", "redis://cache.internal", Options{},
			"tcp", "cache.internal:6379", 0, DefaultPoolSize, DefaultReadTimeout, DefaultDialTimeout, DefaultCommandTimeout, DefaultKeyPrefix, false},
		{"URL options", "redis://h:7000/2?pool_size=4&read_timeout=50ms&key_prefix=prod:&command_timeout=1s", Options{},
			"tcp", "h:7000", 2, 4, 50 * time.Millisecond, DefaultDialTimeout, time.Second, "prod:", false},
		{"explicit options win", "redis://h/1?pool_size=4&read_timeout=50ms&key_prefix=prod:",
			Options{PoolSize: 8, ReadTimeout: 70 * time.Millisecond, DialTimeout: time.Second, CommandTimeout: 2 * time.Second, KeyPrefix: "x:"},
			"tcp", "h:6379", 1, 8, 70 * time.Millisecond, time.Second, 2 * time.Second, "x:", false},
		{"no command timeout", "redis://h/0?command_timeout=0s", Options{},
			"tcp", "h:6379", 0, DefaultPoolSize, DefaultReadTimeout, DefaultDialTimeout, 0, DefaultKeyPrefix, false},
		{"TLS", "rediss://:pw@redis.example.com:6380/3", Options{},
			"tcp", "redis.example.com:6380", 3, DefaultPoolSize, DefaultReadTimeout, DefaultDialTimeout, DefaultCommandTimeout, DefaultKeyPrefix, true},
		{"unix socket", "unix:///run/redis/redis.sock?db=5", Options{},
			"unix", "/run/redis/redis.sock", 5, DefaultPoolSize, DefaultReadTimeout, DefaultDialTimeout, DefaultCommandTimeout, DefaultKeyPrefix, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(tt.url, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ro := cfg.redis
			got := []any{ro.Network, ro.Addr, ro.DB, ro.PoolSize, ro.ReadTimeout, ro.DialTimeout, cfg.budget, cfg.prefix, ro.TLSConfig != nil}
			want := []any{tt.network, tt.addr, tt.db, tt.pool, tt.read, tt.dial, tt.budget, tt.prefix, tt.tls}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d: got %v, want %v", i, got[i], want[i])
				}
			}
			if ro.MaxRetries != -1 || ro.DialerRetries != 1 || !ro.ContextTimeoutEnabled {
				t.Errorf("retries %d, dial retries %d, context timeouts %v", ro.MaxRetries, ro.DialerRetries, ro.ContextTimeoutEnabled)
			}
		})
	}
}

func TestParseErrorsHideThePassword(t *testing.T) {
	const secret = "hunter2secret"
	tests := []struct {
		name string
		url  string
		opts Options
		want string // part of the message
	}{
		{"bad escape in the password", "redis://:" + secret + "%zz@h:6379/0", Options{}, "%-escape"},
		{"bad port", "redis://:" + secret + "@h:port/0", Options{}, "port"},
		{"bad database", "redis://:" + secret + "@h/db", Options{}, "database"},
		{"unknown parameter", "redis://:" + secret + "@h/0?bogus=1", Options{}, "bogus"},
		{"bad command timeout", "redis://:" + secret + "@h/0?command_timeout=soon", Options{}, "command_timeout"},
		{"bad scheme", "http://user:" + secret + "@h/0", Options{}, "scheme"},
		{"password in a parameter value", "redis://:" + secret + "@h/0?read_timeout=" + secret, Options{}, "read_timeout"},
		{"control character", "redis://:" + secret + "@h/0\x7f\n", Options{}, "control"},
		{"negative pool size", "redis://:" + secret + "@h/0", Options{PoolSize: -1}, "pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.url, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error quotes the password: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}
