package testredis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness"
)

// MasterName is the name the sentinels of StartSentinel know their primary
// by.
const MasterName = "mymaster"

// Sentinel is a primary, its replica and three sentinels watching them,
// each a redis-server process (the sentinels run `redis-server <conf>
// --sentinel`), stopped when the test ends.
type Sentinel struct {
	t                testing.TB
	Primary, Replica *Server
	Sentinels        []*Server
}

// StartSentinel runs the setup and waits until every sentinel knows the
// replica and the other sentinels, so that a failover can be agreed on
// (a quorum of two) as soon as the primary is down for NodeTimeout.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	st := &Sentinel{t: t, Primary: Start(t)}
	host, port := "127.0.0.1", strconv.Itoa(st.Primary.port)
	st.Replica = StartWith(t, Config{Args: []string{"--replicaof", host, port}})
	harness.Eventually(t, "the replica to sync", func() bool {
		return strings.Contains(st.Replica.do("INFO", "replication"), "master_link_status:up")
	})
	for range 3 {
		conf := filepath.Join(t.TempDir(), "sentinel.conf")
		lines := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s 2\n"+
			"sentinel down-after-milliseconds %[1]s %[4]d\n"+
			"sentinel failover-timeout %[1]s %[5]d\n",
			MasterName, host, port, NodeTimeout.Milliseconds(), 10*NodeTimeout.Milliseconds())
		if err := os.WriteFile(conf, []byte(lines), 0o600); err != nil {
			t.Fatal(err)
		}
		st.Sentinels = append(st.Sentinels, StartWith(t, Config{sentinelConf: conf}))
	}
	harness.Eventually(t, "the sentinels to know the replica and each other", func() bool {
		for _, s := range st.Sentinels {
			if st.count(s, "REPLICAS") != 1 || st.count(s, "SENTINELS") != len(st.Sentinels)-1 {
				return false
			}
		}
		return true
	})
	return st
}

// URL is the setup's URL in go-redis's failover form: the first sentinel,
// the others as addr parameters, database 0 of the primary master_name.
func (st *Sentinel) URL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redis://%s/0?master_name=%s", st.Sentinels[0].Addr(), MasterName)
	for _, s := range st.Sentinels[1:] {
		b.WriteString("&addr=" + s.Addr())
	}
	return b.String()
}

// WaitPromoted waits until every sentinel names the replica as the
// primary.
func (st *Sentinel) WaitPromoted() {
	st.t.Helper()
	harness.Eventually(st.t, "the sentinels to promote the replica", func() bool {
		for _, s := range st.Sentinels {
			if !strings.Contains(s.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName), strconv.Itoa(st.Replica.port)) {
				return false
			}
		}
		return true
	})
}

// CurrentPrimary returns the server that runs as the primary now: the
// first primary, or after a failover the replica.
func (st *Sentinel) CurrentPrimary() *Server {
	for _, s := range []*Server{st.Primary, st.Replica} {
		if s.running() && strings.HasPrefix(s.do("ROLE"), "[master") {
			return s
		}
	}
	return nil
}

// count is how many of what (REPLICAS, SENTINELS) sentinel s knows of.
func (st *Sentinel) count(s *Server, what string) int {
	rdb := s.client()
	defer rdb.Close()
	v, err := rdb.Do(context.Background(), "SENTINEL", what, MasterName).Slice()
	if err != nil {
		return -1
	}
	return len(v)
}
