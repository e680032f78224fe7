package redisclient

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/testredis"
)

// hangGuard is far above any timeout of the client: a command that takes
// longer is hanging, not slow.
const hangGuard = 3 * time.Second

func TestConnect(t *testing.T) {
	open := testredis.Start(t)
	locked := testredis.StartWith(t, testredis.Config{Password: "pa:ss@w/rd"})
	tests := []struct {
		name string
		url  string
	}{
		{"tcp", open.URL()},
		{"unix socket", "unix://" + open.Socket() + "?db=2"},
		{"password", "redis://:" + "pa%3Ass%40w%2Frd" + "@" + locked.Addr() + "/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.url, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.String(), "pa%3Ass") {
				t.Fatalf("String() quotes the password: %s", c)
			}
		})
	}
}

func TestWrongPasswordIsNotQuoted(t *testing.T) {
	s := testredis.StartWith(t, testredis.Config{Password: "right-password"})
	c, err := New("redis://:wrong-password@"+s.Addr()+"/0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Ping(context.Background())
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	for _, text := range []string{err.Error(), c.String()} {
		if strings.Contains(text, "password@") || strings.Contains(text, "wrong-password") {
			t.Fatalf("%q quotes the password", text)
		}
	}
}

func TestOutages(t *testing.T) {
	tests := []struct {
		name         string
		fail, repair func(s *testredis.Server)
	}{
		{"stopped and restarted", (*testredis.Server).Stop, (*testredis.Server).Restart},
		{"frozen and thawed", (*testredis.Server).Freeze, (*testredis.Server).Thaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testredis.Start(t)
			c, err := New(s.URL(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			tt.fail(s)
			start := time.Now()
			err = c.Ping(ctx)
			took := time.Since(start)
			t.Logf("failed in %s: %v", took, err)
			if err == nil {
				t.Fatal("a command succeeded during the outage")
			}
			if took > hangGuard {
				t.Fatalf("the command hung for %s", took)
			}
			tt.repair(s)
			testredis.Eventually(t, "the client to recover", func() bool { return c.Ping(ctx) == nil })
		})
	}
}
