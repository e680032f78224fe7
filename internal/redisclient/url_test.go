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
			cfg, err := parse(Single, tt.url, tt.opts)
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
		mode Mode
		opts Options
		want string // part of the message
	}{
		{"bad escape in the password", "redis://:" + secret + "%zz@h:6379/0", Single, Options{}, "%-escape"},
		{"bad port", "redis://:" + secret + "@h:port/0", Single, Options{}, "port"},
		{"bad database", "redis://:" + secret + "@h/db", Single, Options{}, "database"},
		{"unknown parameter", "redis://:" + secret + "@h/0?bogus=1", Single, Options{}, "bogus"},
		{"bad command timeout", "redis://:" + secret + "@h/0?command_timeout=soon", Single, Options{}, "command_timeout"},
		{"bad scheme", "http://user:" + secret + "@h/0", Single, Options{}, "scheme"},
		{"password in a parameter value", "redis://:" + secret + "@h/0?read_timeout=" + secret, Single, Options{}, "read_timeout"},
		{"control character", "redis://:" + secret + "@h/0\x7f\n", Single, Options{}, "control"},
		{"negative pool size", "redis://:" + secret + "@h/0", Single, Options{PoolSize: -1}, "pool"},
		{"cluster, unix socket", "unix://:" + secret + "@/run/redis.sock", Cluster, Options{}, "scheme"},
		{"cluster, unknown parameter", "redis://:" + secret + "@h:7000?addr=h2:7000&bogus=1", Cluster, Options{}, "bogus"},
		{"sentinel, no master name", "redis://:" + secret + "@h:26379/0?password=" + secret, Sentinel, Options{}, "master_name"},
		{"sentinel, primary's password in the query", "redis://h:26379/0?master_name=m&password=" + secret + "&bogus=1", Sentinel, Options{}, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.mode, tt.url, tt.opts)
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

// TestParseModes: the cluster and Sentinel forms name every node and
// sentinel, and take the gateway's defaults and options as one server does.
func TestParseModes(t *testing.T) {
	cfg, err := parse(Cluster, "redis://:pw@10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000&key_prefix=c:&read_timeout=50ms", Options{})
	if err != nil {
		t.Fatal(err)
	}
	co := cfg.cluster
	if got := strings.Join(co.Addrs, " "); got != "10.0.0.1:7000 10.0.0.2:7000 10.0.0.3:7000" || co.Password != "pw" {
		t.Errorf("cluster nodes %q, password %q", got, co.Password)
	}
	if cfg.prefix != "c:" || co.ReadTimeout != 50*time.Millisecond || co.DialTimeout != DefaultDialTimeout ||
		co.PoolSize != DefaultPoolSize || co.DialerRetries != 1 || !co.ContextTimeoutEnabled || cfg.budget != DefaultCommandTimeout {
		t.Errorf("cluster options: prefix %q, %+v", cfg.prefix, co)
	}

	cfg, err = parse(Sentinel, "redis://10.0.0.1:26379/2?master_name=mymaster&addr=10.0.0.2:26379&password=primary-secret&command_timeout=1s", Options{PoolSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	fo := cfg.failover
	if got := strings.Join(fo.SentinelAddrs, " "); got != "10.0.0.1:26379 10.0.0.2:26379" || fo.MasterName != "mymaster" || fo.DB != 2 {
		t.Errorf("sentinels %q, master %q, db %d", got, fo.MasterName, fo.DB)
	}
	if fo.PoolSize != 3 || fo.MaxRetries != -1 || cfg.budget != time.Second || fo.Password != "primary-secret" {
		t.Errorf("sentinel options: budget %s, %+v", cfg.budget, fo)
	}
	if strings.Contains(cfg.redacted, "primary-secret") {
		t.Errorf("redacted URL %q quotes the primary's password", cfg.redacted)
	}
}
