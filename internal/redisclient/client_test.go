package redisclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/redis/go-redis/v9"
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

// TestBudgetSharedByClients: commands made with one request's budget,
// through two clients of a frozen server, wait one CommandTimeout in all:
// the first spends it, the rest fail at once without being sent.
func TestBudgetSharedByClients(t *testing.T) {
	s := testredis.Start(t)
	// Reads that outlast the budget: only the budget ends a command.
	opts := Options{CommandTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second}
	a, err := New(s.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(s.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	defer s.Thaw()
	ctx := WithBudget(context.Background())
	if WithBudget(ctx) != ctx {
		t.Fatal("a second WithBudget replaced the request's budget")
	}
	if err := a.Ping(ctx); err == nil || errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("first command on a frozen server: %v, want its timeout", err)
	}
	if err := b.Ping(ctx); !errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("second client, same request: %v, want ErrBudgetSpent", err)
	}
	_, err = b.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		return nil
	})
	if !errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("pipeline, same request: %v, want ErrBudgetSpent", err)
	}
	// Another request has a budget of its own.
	if err := b.Ping(WithBudget(context.Background())); err == nil || errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("another request: %v, want its own timeout", err)
	}
}
