package redisclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/redis/go-redis/v9"
)

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
			c, err := redisclient.New(tt.url, redisclient.Options{})
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
	c, err := redisclient.New("redis://:wrong-password@"+s.Addr()+"/0", redisclient.Options{})
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
	for _, tt := range testredis.Outages {
		t.Run(tt.Name, func(t *testing.T) {
			s := testredis.Start(t)
			c, err := redisclient.New(s.URL(), redisclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			tt.Fail(s)
			testredis.FailFast(t, func() error { return c.Ping(ctx) })
			tt.Repair(s)
			harness.Eventually(t, "the client to recover", func() bool { return c.Ping(ctx) == nil })
		})
	}
}

// TestBudgetSharedByClients: commands made with one request's budget,
// through two clients of a frozen server, wait one CommandTimeout in all:
// the first spends it, the rest fail at once without being sent.
func TestBudgetSharedByClients(t *testing.T) {
	s := testredis.Start(t)
	// Reads that outlast the budget: only the budget ends a command.
	opts := redisclient.Options{CommandTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second}
	a, err := redisclient.New(s.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := redisclient.New(s.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	defer s.Thaw()
	ctx := redisclient.WithBudget(context.Background())
	if redisclient.WithBudget(ctx) != ctx {
		t.Fatal("a second redisclient.WithBudget replaced the request's budget")
	}
	if err := a.Ping(ctx); err == nil || errors.Is(err, redisclient.ErrBudgetSpent) {
		t.Fatalf("first command on a frozen server: %v, want its timeout", err)
	}
	if err := b.Ping(ctx); !errors.Is(err, redisclient.ErrBudgetSpent) {
		t.Fatalf("second client, same request: %v, want ErrBudgetSpent", err)
	}
	_, err = b.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		return nil
	})
	if !errors.Is(err, redisclient.ErrBudgetSpent) {
		t.Fatalf("pipeline, same request: %v, want ErrBudgetSpent", err)
	}
	// Another request has a budget of its own.
	if err := b.Ping(redisclient.WithBudget(context.Background())); err == nil || errors.Is(err, redisclient.ErrBudgetSpent) {
		t.Fatalf("another request: %v, want its own timeout", err)
	}
}

// TestFailover: through a cluster whose primary dies, and through Sentinel
// whose primary dies, commands fail within the budget while nothing serves
// their keys, and succeed again once a replica is promoted, with the same
// client.
func TestFailover(t *testing.T) {
	tests := []struct {
		name string
		open func(t *testing.T) (mode redisclient.Mode, url string, kill func(key string), healed func())
	}{
		{"cluster", func(t *testing.T) (redisclient.Mode, string, func(string), func()) {
			c := testredis.StartCluster(t, 3, 1)
			c.WaitReplicasSynced()
			return redisclient.Cluster, c.URL(), func(key string) { c.PrimaryOf(key).Stop() }, c.WaitHealed
		}},
		{"sentinel", func(t *testing.T) (redisclient.Mode, string, func(string), func()) {
			st := testredis.StartSentinel(t)
			return redisclient.Sentinel, st.URL(), func(string) { st.Primary.Stop() }, st.WaitPromoted
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode, url, kill, healed := tt.open(t)
			c, err := redisclient.Open(mode, url, redisclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if err := c.Universal.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			kill("k")
			for _, err := range testredis.FailFast(t, func() error { return c.Universal.Set(ctx, "k", "w", 0).Err() }) {
				t.Logf("primary down: %v", err)
			}
			healed()
			harness.Eventually(t, "writes to the promoted replica", func() bool {
				return c.Universal.Set(ctx, "k", "w", 0).Err() == nil
			})
		})
	}
}
