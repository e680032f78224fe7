package testredis

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// NodeTimeout is how long a cluster node or a sentinel's primary may be
// unreachable before it is failed over: short, so that tests of a failover
// take seconds, and well above the pauses of a loaded machine.
const NodeTimeout = time.Second

// createTimeout bounds redis-cli's making of a cluster, seconds when all
// goes well.
const createTimeout = time.Minute

// Cluster is a Redis Cluster of redis-server processes on loopback ports,
// made as an operator makes one (`redis-cli --cluster create`), stopped
// when the test ends.
type Cluster struct {
	t testing.TB
	// Nodes are the servers, primaries and replicas as redis-cli chose
	// (a failover changes the roles: see PrimaryOf).
	Nodes []*Server
}

// StartCluster runs a cluster of primaries nodes, each with replicas
// replicas, the 16384 hash slots shared among the primaries, and waits
// until every node sees the cluster whole.
func StartCluster(t testing.TB, primaries, replicas int) *Cluster {
	t.Helper()
	cli := lookPath(t, "redis-cli")
	c := &Cluster{t: t}
	create := []string{"--cluster", "create"}
	for range primaries * (1 + replicas) {
		s := StartWith(t, Config{clusterBus: true, Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", // in the server's own dir
			"--cluster-node-timeout", strconv.FormatInt(NodeTimeout.Milliseconds(), 10),
			// A replica may take over however long it has been cut off
			// from its primary: a loaded machine delays their pings.
			"--cluster-replica-validity-factor", "0",
		}})
		c.Nodes = append(c.Nodes, s)
		create = append(create, s.Addr())
	}
	create = append(create, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	// redis-cli waits for the nodes to agree without a bound of its own.
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput(); err != nil {
		t.Fatalf("testredis: redis-cli --cluster create: %v\n%s", err, out)
	}
	harness.Eventually(t, "every node to see the cluster whole", func() bool {
		for _, s := range c.Nodes {
			if !s.clusterOK() {
				return false
			}
		}
		return true
	})
	return c
}

// URL is the cluster's URL in go-redis's form: the first node, and the
// others as addr parameters.
func (c *Cluster) URL() string {
	addrs := make([]string, 0, len(c.Nodes)-1)
	for _, s := range c.Nodes[1:] {
		addrs = append(addrs, "addr="+s.Addr())
	}
	return "redis://" + c.Nodes[0].Addr() + "?" + strings.Join(addrs, "&")
}

// Client opens a client of the cluster with the gateway's defaults (its
// timeouts among them) and opts, closed when the test ends.
func (c *Cluster) Client(opts redisclient.Options) *redisclient.Client {
	c.t.Helper()
	rc, err := redisclient.Open(redisclient.Cluster, c.URL(), opts)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = rc.Close() })
	return rc
}

// Keys returns the keys that match pattern on rdb: on each primary of a
// cluster, where KEYS sees one server's keys only.
func Keys(t testing.TB, rdb redis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		keys, err := rdb.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	var mu sync.Mutex
	var keys []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		k, err := node.Keys(ctx, pattern).Result()
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// PrimaryOf returns the running node that serves key's hash slot as
// primary.
func (c *Cluster) PrimaryOf(key string) *Server {
	c.t.Helper()
	ctx := context.Background()
	for _, s := range c.Nodes {
		if !s.running() {
			continue
		}
		rdb := s.client()
		slot, err := rdb.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			rdb.Close()
			continue
		}
		role, _ := rdb.Do(ctx, "ROLE").Slice()
		owned := s.ownsSlot(rdb, slot)
		rdb.Close()
		if len(role) > 0 && role[0] == "master" && owned {
			return s
		}
	}
	c.t.Fatalf("testredis: no running primary serves the slot of %q", key)
	return nil
}

// WaitHealed waits until every running node sees every slot served by a
// running primary (after a failover: by a promoted replica).
func (c *Cluster) WaitHealed() {
	c.t.Helper()
	harness.Eventually(c.t, "the cluster to serve every slot again", func() bool {
		for _, s := range c.Nodes {
			if s.running() && !(s.clusterOK() && c.servedByRunning(s)) {
				return false
			}
		}
		return true
	})
}

// servedByRunning reports whether node s sees each slot served by a
// running node.
func (c *Cluster) servedByRunning(s *Server) bool {
	running := map[string]bool{}
	for _, n := range c.Nodes {
		running[n.Addr()] = n.running()
	}
	rdb := s.client()
	defer rdb.Close()
	slots, err := rdb.ClusterSlots(context.Background()).Result()
	if err != nil {
		return false
	}
	covered := 0
	for _, r := range slots {
		if len(r.Nodes) == 0 || !running[r.Nodes[0].Addr] {
			return false
		}
		covered += r.End - r.Start + 1
	}
	return covered == 16384
}

// WaitReplicasSynced waits until every replica has its primary's data.
func (c *Cluster) WaitReplicasSynced() {
	c.t.Helper()
	harness.Eventually(c.t, "the replicas to sync", func() bool {
		for _, s := range c.Nodes {
			if !s.running() {
				continue
			}
			info := s.do("INFO", "replication")
			if strings.Contains(info, "role:slave") && !strings.Contains(info, "master_link_status:up") {
				return false
			}
		}
		return true
	})
}

// clusterOK reports whether the node sees the cluster in state ok.
func (s *Server) clusterOK() bool {
	return strings.Contains(s.do("CLUSTER", "INFO"), "cluster_state:ok")
}

// ownsSlot reports whether the node at rdb lists itself for slot.
func (s *Server) ownsSlot(rdb *redis.Client, slot int64) bool {
	slots, err := rdb.ClusterSlots(context.Background()).Result()
	if err != nil {
		return false
	}
	for _, r := range slots {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 && r.Nodes[0].Addr == s.Addr() {
			return true
		}
	}
	return false
}
