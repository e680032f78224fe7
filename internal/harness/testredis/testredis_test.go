package testredis

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
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
			if _, err := ping("tcp", s.Addr(), s.cfg.TLS, time.Second); err == nil {
				t.Fatal("a stopped server answered")
			}
			s.Stop() // stopping twice is harmless
		})
	}
}

// TestServerOnATakenPort: a server whose free port another process took
// before it could bind it starts again on another port, and the server
// started is that one, not the process holding the port.
func TestServerOnATakenPort(t *testing.T) {
	other := Start(t)
	ports := []int{other.port}
	freePort = func(t testing.TB) int {
		if len(ports) > 0 {
			p := ports[0]
			ports = ports[1:]
			return p
		}
		return harness.FreePort(t)
	}
	t.Cleanup(func() { freePort = harness.FreePort })
	s := Start(t)
	if s.port == other.port {
		t.Fatalf("started on the taken port %d", s.port)
	}
	assertPing(t, s, "+PONG")
	if want := fmt.Sprint("process_id:", s.cmd.Process.Pid); !strings.Contains(s.do("INFO", "server"), want) {
		t.Fatalf("the server on %s is not the one started (%s)", s.Addr(), want)
	}
}

func TestFreezeAndThaw(t *testing.T) {
	s := Start(t)
	s.Freeze()
	if reply, err := ping("tcp", s.Addr(), s.cfg.TLS, 50*time.Millisecond); err == nil {
		t.Fatalf("a frozen server answered %q", reply)
	}
	s.Thaw()
	assertPing(t, s, "+PONG")
}

func assertPing(t *testing.T, s *Server, want string) {
	t.Helper()
	reply, err := ping("tcp", s.Addr(), s.cfg.TLS, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reply, want) {
		t.Fatalf("PING answered %q, want %q", reply, want)
	}
}

// TestCluster: a cluster made by redis-cli serves keys of every slot, and
// a replica takes over the slots of a primary that dies.
func TestCluster(t *testing.T) {
	c := StartCluster(t, 3, 1)
	rdb := c.Client(redisclient.Options{}).Universal
	ctx := context.Background()
	for i := range 30 {
		if err := rdb.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if keys := Keys(t, rdb, "k*"); len(keys) != 30 {
		t.Fatalf("%d keys on the primaries, want 30", len(keys))
	}
	var primaries atomic.Int64 // ForEachMaster calls at once
	_ = rdb.(*redis.ClusterClient).ForEachMaster(ctx, func(context.Context, *redis.Client) error { primaries.Add(1); return nil })
	if primaries.Load() != 3 {
		t.Fatalf("%d primaries, want 3", primaries.Load())
	}
	c.WaitReplicasSynced()
	dead := c.PrimaryOf("k1")
	dead.Stop()
	c.WaitHealed()
	if next := c.PrimaryOf("k1"); next == dead {
		t.Fatal("the dead primary still serves k1")
	}
	harness.Eventually(t, "k1 on the promoted replica", func() bool { return rdb.Get(ctx, "k1").Val() == "1" })
}

// TestSentinel: the sentinels promote the replica when the primary dies,
// and a failover client follows them.
func TestSentinel(t *testing.T) {
	st := StartSentinel(t)
	if !strings.Contains(st.URL(), "master_name="+MasterName) {
		t.Fatalf("URL %q", st.URL())
	}
	opts, err := redis.ParseFailoverURL(st.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewFailoverClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	st.Primary.Stop()
	st.WaitPromoted()
	harness.Eventually(t, "writes on the promoted replica", func() bool { return rdb.Set(ctx, "k2", "v", 0).Err() == nil })
}
