package testredis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServer(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // first reply to an unauthenticated PING
	}{
		{"open", Config{}, "+PONG"},
		{"password", Config{Password: "s3cret"}, "-NOAUTH"},
		{"TLS", Config{TLS: true}, "+PONG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := StartWith(t, tt.cfg)
			if !strings.Contains(s.URL(), s.Addr()) {
				t.Fatalf("URL %q does not name %s", s.URL(), s.Addr())
			}
			if tt.cfg.Password != "" && !strings.Contains(s.URL(), ":"+tt.cfg.Password+"@") {
				t.Fatalf("URL %q lacks the password", s.URL())
			}
			assertPing(t, s, tt.want)
			s.Restart()
			assertPing(t, s, tt.want)
			s.Stop()
			if _, err := ping(s.Addr(), s.cfg.TLS, time.Second); err == nil {
				t.Fatal("a stopped server answered")
			}
			s.Stop() // stopping twice is harmless
		})
	}
}

func TestFreezeAndThaw(t *testing.T) {
	s := Start(t)
	s.Freeze()
	if reply, err := ping(s.Addr(), s.cfg.TLS, 50*time.Millisecond); err == nil {
		t.Fatalf("a frozen server answered %q", reply)
	}
	s.Thaw()
	assertPing(t, s, "+PONG")
}

func assertPing(t *testing.T, s *Server, want string) {
	t.Helper()
	reply, err := ping(s.Addr(), s.cfg.TLS, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reply, want) {
		t.Fatalf("PING answered %q, want %q", reply, want)
	}
}

func TestBinaryOnPath(t *testing.T) {
	found, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	// Another directory first on the PATH: its redis-server is the one run.
	dir := t.TempDir()
	link := filepath.Join(dir, "redis-server")
	if err := os.Symlink(found, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	if got, err := binary(); err != nil || got != link {
		t.Fatalf("binary() = %q, %v; want %q", got, err, link)
	}
	assertPing(t, Start(t), "+PONG")

	// None on the PATH: an error that names the binary and how to get it.
	t.Setenv("PATH", t.TempDir())
	_, err = binary()
	if err == nil || !strings.Contains(err.Error(), "redis-server is not on the PATH") || !strings.Contains(err.Error(), "apt-get install redis-server") {
		t.Fatalf("binary() with no redis-server on the PATH: %v", err)
	}
}
