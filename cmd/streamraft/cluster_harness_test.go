package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster"
)

// An in-process cluster: real nodes built as main builds them
// (startServer), each with its own loopback ports and data dir, talking
// Raft and gossip over TCP/UDP on 127.0.0.1.

// raftClusterTimeout bounds formation, elections and replica moves in tests.
const raftClusterTimeout = 90 * time.Second

type testCluster struct {
	t      *testing.T
	shards int
	logs   *lockedBuffer
	mu     sync.Mutex
	nodes  []*testNode
}

type testNode struct {
	id  string
	cfg Config
	srv *server // nil while stopped
}

// newTestCluster prepares n nodes (n1..nN) that all join each other's
// gossip addresses with --bootstrap-expect n; start them with startAll.
func newTestCluster(t *testing.T, n, shards int) *testCluster {
	c := &testCluster{t: t, shards: shards, logs: new(lockedBuffer)}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, c.newNode(fmt.Sprintf("n%d", i), n))
	}
	seeds := c.gossipAddrs()
	for _, nd := range c.nodes {
		nd.cfg.Join = seeds
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			if nd.srv != nil {
				nd.srv.Close()
			}
		}
		if t.Failed() {
			t.Logf("cluster logs (warnings and errors):\n%s", c.logs.String())
		}
	})
	return c
}

func (c *testCluster) newNode(id string, expect int) *testNode {
	addr := freeAddr(c.t)
	return &testNode{id: id, cfg: Config{
		NodeID: id, DataDir: filepath.Join(c.t.TempDir(), id), Addr: addr, Advertise: addr,
		RaftAddr: freeAddr(c.t), HTTPAddr: freeAddr(c.t), GossipAddr: freeAddr(c.t), LogLevel: "warn",
		MaxBulkBytes: 512 << 20, MaxClients: 1000, SnapshotThreshold: 8192, SnapshotInterval: 2 * time.Minute,
		Shards: c.shards, BootstrapExpect: expect, Replicas: 3, DeadNodeTimeout: cluster.DefaultDeadNodeTimeout,
	}}
}

func (c *testCluster) gossipAddrs() []string {
	var out []string
	for _, nd := range c.nodes {
		out = append(out, nd.cfg.GossipAddr)
	}
	return out
}

// startAll starts every stopped node at once, in reverse order of ID, and
// waits until each serves.
func (c *testCluster) startAll() {
	c.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i := len(c.nodes) - 1; i >= 0; i-- {
		nd := c.nodes[i]
		if nd.srv != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.start(nd)
		}()
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.t.Fatalf("start %s: %v", c.nodes[i].id, err)
		}
	}
}

func (c *testCluster) start(nd *testNode) error {
	ctx, cancel := context.WithTimeout(context.Background(), raftClusterTimeout)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", nd.id)
	srv, err := startServer(ctx, nd.cfg, logger)
	if err != nil {
		return err
	}
	c.mu.Lock()
	nd.srv = srv
	c.mu.Unlock()
	return nil
}

// add starts a new node that joins the running cluster.
func (c *testCluster) add(id string) *testNode {
	c.t.Helper()
	nd := c.newNode(id, 1)
	nd.cfg.Join = c.gossipAddrs()
	c.mu.Lock()
	c.nodes = append(c.nodes, nd)
	c.mu.Unlock()
	if err := c.start(nd); err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	return nd
}

// stop shuts nd down gracefully, as SIGTERM does.
func (c *testCluster) stop(nd *testNode) {
	c.mu.Lock()
	srv := nd.srv
	nd.srv = nil
	c.mu.Unlock()
	srv.Close()
}

// kill stops nd as a crash would: no graceful leave, no hand-over.
func (c *testCluster) kill(nd *testNode) {
	c.t.Helper()
	srv := nd.srv
	c.mu.Lock()
	nd.srv = nil
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = srv.resp.Shutdown(ctx) // drop the clients at once
	_ = srv.http.Close()
	if err := srv.node.Kill(); err != nil {
		c.t.Logf("kill %s: %v", nd.id, err)
	}
	srv.lns.close()
}

// restart starts a stopped node again on the same ports; wipe empties its
// data dir first (a node rebuilt on a new disk).
func (c *testCluster) restart(nd *testNode, wipe bool) {
	c.t.Helper()
	if wipe {
		if err := os.RemoveAll(nd.cfg.DataDir); err != nil {
			c.t.Fatal(err)
		}
	}
	nd.cfg.BootstrapExpect = 1 // a restarted node never bootstraps anyway
	if err := c.start(nd); err != nil {
		c.t.Fatalf("restart %s: %v", nd.id, err)
	}
}

func (c *testCluster) running() []*testNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*testNode
	for _, nd := range c.nodes {
		if nd.srv != nil {
			out = append(out, nd)
		}
	}
	return out
}

func (c *testCluster) node(id string) *testNode {
	for _, nd := range c.nodes {
		if nd.id == id {
			return nd
		}
	}
	c.t.Fatalf("no node %s", id)
	return nil
}

// client is a go-redis ClusterClient seeded with every running node.
func (c *testCluster) client() *redis.ClusterClient {
	var addrs []string
	for _, nd := range c.running() {
		addrs = append(addrs, nd.cfg.Addr)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, MaxRedirects: 16, ReadTimeout: 10 * time.Second,
		MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 500 * time.Millisecond,
	})
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// waitUntil polls cond until it returns "" or raftClusterTimeout passes; cond
// says what it still waits for.
func (c *testCluster) waitUntil(what string, cond func() string) {
	c.t.Helper()
	deadline := time.Now().Add(raftClusterTimeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s: still %s after %v", what, last, raftClusterTimeout)
}

// settled reports what keeps the cluster from its steady state: every
// running node registered and every shard with a leader and exactly the
// placed voters (as the leader reported them) and led by its preferred
// leader, replicas spread evenly and leaderships at most
// ceil(shards/nodes)+1 per node.
func (c *testCluster) settled(wantNodes int) string {
	nodes := c.running()
	st := nodes[0].srv.node.Status()
	if len(st.Nodes) != wantNodes {
		return fmt.Sprintf("%d nodes registered, want %d", len(st.Nodes), wantNodes)
	}
	v := nodes[0].srv.node.View()
	if len(v.Shards) != c.shards {
		return fmt.Sprintf("%d shards in view", len(v.Shards))
	}
	replicas := min(3, wantNodes)
	for i, s := range v.Shards {
		if s.Leader == "" || s.Leader != s.Preferred {
			return fmt.Sprintf("shard %d led by %q, preferred %q", i, s.Leader, s.Preferred)
		}
		if len(s.Followers)+1 != replicas {
			return fmt.Sprintf("shard %d has voters %s+%v, want %d", i, s.Leader, s.Followers, replicas)
		}
	}
	limit := (c.shards+wantNodes-1)/wantNodes + 1
	lo, hi := c.shards*replicas/wantNodes, (c.shards*replicas+wantNodes-1)/wantNodes
	for _, n := range st.Nodes {
		if n.Leads > limit {
			return fmt.Sprintf("%s leads %d shards, limit %d", n.ID, n.Leads, limit)
		}
		if n.Replicas < lo || n.Replicas > hi {
			return fmt.Sprintf("%s holds %d replicas, want %d-%d", n.ID, n.Replicas, lo, hi)
		}
	}
	for _, nd := range nodes {
		if !nd.srv.node.Ready() {
			return nd.id + " not ready"
		}
	}
	return ""
}

// leaderOf is the running node that leads key's shard, per n's view.
func (c *testCluster) leaderOf(key string) *testNode {
	c.t.Helper()
	nd := c.running()[0]
	v := nd.srv.node.View()
	slot := keySlot([]byte(key))
	for _, s := range v.Shards {
		if slot >= s.Lo && slot <= s.Hi {
			for _, r := range c.running() {
				if r.id == s.Leader {
					return r
				}
			}
		}
	}
	c.t.Fatalf("no running leader for %q in %+v", key, v.Shards)
	return nil
}

// ackLog records every XADD the cluster acknowledged.
type ackLog struct {
	mu  sync.Mutex
	ids map[string][]string // stream -> IDs in order
}

func (a *ackLog) add(stream, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string][]string{}
	}
	a.ids[stream] = append(a.ids[stream], id)
}

func (a *ackLog) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ids := range a.ids {
		n += len(ids)
	}
	return n
}

// writeLoad XADDs to streams load-0..load-63 through cc until stop is
// closed, recording acknowledged IDs; errors (failovers) are retried.
func writeLoad(cc *redis.ClusterClient, acked *ackLog, stop <-chan struct{}, wg *sync.WaitGroup) {
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				stream := fmt.Sprintf("load-%d", (i*4+w)%64)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				id, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []string{"w", fmt.Sprint(w), "i", fmt.Sprint(i)}}).Result()
				cancel()
				if err == nil {
					acked.add(stream, id)
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
}

// checkAcked reads every stream back and fails on any acknowledged entry
// that is missing.
func checkAcked(t *testing.T, cc *redis.ClusterClient, acked *ackLog) {
	t.Helper()
	acked.mu.Lock()
	defer acked.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), raftClusterTimeout)
	defer cancel()
	for stream, ids := range acked.ids {
		msgs, err := cc.XRange(ctx, stream, "-", "+").Result()
		if err != nil {
			t.Fatalf("XRANGE %s: %v", stream, err)
		}
		have := map[string]bool{}
		for _, m := range msgs {
			have[m.ID] = true
		}
		for _, id := range ids {
			if !have[id] {
				t.Fatalf("acknowledged entry %s %s is missing (stream has %d entries)", stream, id, len(msgs))
			}
		}
	}
}

// rawCommand sends one command over a fresh connection and returns the
// raw reply line (enough for error replies).
func rawCommand(t *testing.T, addr string, args ...string) string {
	t.Helper()
	return rawCommandTimeout(addr, 5*time.Second, args...)
}

// rawCommandTimeout is rawCommand with a read deadline; an I/O error is
// returned as "io: <error>".
func rawCommandTimeout(addr string, timeout time.Duration, args ...string) string {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "io: " + err.Error()
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "io: " + err.Error()
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return "io: " + err.Error()
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

func ids(nodes []*testNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.id)
	}
	slices.Sort(out)
	return out
}
