// Package clustertest runs real streamraft clusters inside one test
// process: every node is built exactly as the binary builds it
// (embed.Start), with its own loopback ports and data dir, and talks Raft,
// RPC and gossip to the others over real TCP and UDP. Tests use it to form
// clusters, kill, stop, restart and wipe nodes, and to drive them with the
// real go-redis client.
//
// Waiting is done through one poll helper (Cluster.WaitUntil, or Poll):
// a condition is checked until it holds or a deadline passes; tests never
// sleep to let something happen.
package clustertest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/cluster/clustertest/faultnet"
	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
	"github.com/streamraft/streamraft/cluster/embed"
	"github.com/streamraft/streamraft/fsm"
)

// Timeout bounds formation, elections and replica moves in tests: seconds
// on an idle machine, generous for a loaded 2-core CI machine running
// three nodes and their clients.
const Timeout = 90 * time.Second

// pollEvery is how often WaitUntil checks its condition: often enough that
// a test does not wait much longer than the event takes, rarely enough
// not to load the nodes it watches.
const pollEvery = 50 * time.Millisecond

// Cluster is a set of in-process nodes n1..nN that join each other's
// gossip addresses.
type Cluster struct {
	T      testing.TB
	Shards int
	// Logs holds every node's warnings and errors; they are printed when
	// the test fails.
	Logs *LockedBuffer
	// Net carries every node's Raft, RPC and gossip traffic: tests cut,
	// delay and drop links there (clients reach the nodes directly).
	Net *faultnet.Net
	// memDisk, when set (WithMemDisk), holds every node's Raft logs in
	// memory, so that a power loss can drop what was not synced.
	memDisk  *faultstore.Disk
	syncMode faultstore.SyncMode

	mu    sync.Mutex
	nodes []*Node
	// edit, when set, adjusts every node's configuration before it starts
	// (Option).
	edit []func(*Node)
	// prefix names the nodes: <prefix>1..<prefix>N (default "n").
	prefix string
}

// Node is one node of a Cluster.
type Node struct {
	ID  string
	Cfg embed.Config
	// Srv is the running server; nil while the node is stopped.
	Srv *embed.Server
	// Clock is the wall clock the node stamps entries with: tests move it.
	Clock *Clock

	mu      sync.Mutex
	disks   []*faultstore.FaultyStore // the node's open log stores, which tests can fail
	diskErr error
}

// FailDisk makes every log and stable store write of nd fail with err
// (syscall.ENOSPC for a full disk, syscall.EIO for a failing fsync);
// nil heals it. Stores the node opens later fail too.
func (nd *Node) FailDisk(err error) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	nd.diskErr = err
	for _, d := range nd.disks {
		if err == nil {
			d.Heal()
		} else {
			d.FailWrites(err)
		}
	}
}

// Option changes how New prepares the nodes.
type Option func(*Cluster)

// WithConfig applies edit to every node's configuration before each start
// (also to nodes added later).
func WithConfig(edit func(*Node)) Option {
	return func(c *Cluster) { c.edit = append(c.edit, edit) }
}

// WithPrefix names the nodes <prefix>1..<prefix>N instead of n1..nN (two
// clusters in one test need different names).
func WithPrefix(prefix string) Option {
	return func(c *Cluster) { c.prefix = prefix }
}

// WithSeed seeds the fault network's random drops (default 1).
func WithSeed(seed int64) Option {
	return func(c *Cluster) { c.Net = faultnet.New(seed) }
}

// WithMemDisk keeps every node's Raft logs and stable stores on disk, an
// in-memory disk that survives restarts; mode says when the shards'
// writes become durable (faultstore.SyncAlways is what raft-boltdb does).
// The meta group's writes are always synced: the demonstration is about
// acknowledged stream writes, not about a cluster losing its
// configuration. PowerLoss then drops what a node had not synced.
func WithMemDisk(disk *faultstore.Disk, mode faultstore.SyncMode) Option {
	return func(c *Cluster) { c.memDisk, c.syncMode = disk, mode }
}

// New prepares n nodes (n1..nN) that all join each other's gossip
// addresses with --bootstrap-expect n; start them with StartAll. The nodes
// are stopped when the test ends.
func New(t testing.TB, n, shards int, opts ...Option) *Cluster {
	c := &Cluster{T: t, Shards: shards, Logs: new(LockedBuffer), Net: faultnet.New(1), prefix: "n"}
	for _, o := range opts {
		o(c)
	}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, c.newNode(fmt.Sprintf("%s%d", c.prefix, i), n))
	}
	seeds := c.gossipAddrs()
	for _, nd := range c.nodes {
		if n > 1 { // a lone node runs without gossip, as the binary does
			nd.Cfg.Join = seeds
		}
	}
	t.Cleanup(func() {
		for _, nd := range c.Running() {
			nd.Srv.Close()
		}
		if t.Failed() {
			t.Logf("cluster logs (warnings and errors):\n%s", c.Logs.String())
		}
	})
	return c
}

func (c *Cluster) newNode(id string, expect int) *Node {
	addr := FreeAddr(c.T)
	nd := &Node{ID: id, Clock: &Clock{}, Cfg: embed.Config{
		NodeID: id, DataDir: filepath.Join(c.T.TempDir(), id), Addr: addr, Advertise: addr,
		RaftAddr: FreeAddr(c.T), HTTPAddr: FreeAddr(c.T), GossipAddr: FreeAddr(c.T), LogLevel: "warn",
		MaxBulkBytes: 512 << 20, MaxClients: 1000, SnapshotThreshold: 8192, SnapshotInterval: 2 * time.Minute,
		TrailingLogs: 10240, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, // the binary's defaults
		Shards:             c.Shards, BootstrapExpect: expect, Replicas: 3, DeadNodeTimeout: cluster.DefaultDeadNodeTimeout,
		LogStore: cluster.LogStoreBolt,
	}}
	c.Net.Register(id, nd.Cfg.RaftAddr, nd.Cfg.GossipAddr)
	nd.Cfg.Hooks = embed.Hooks{
		Dial: c.Net.Dial(id),
		GossipTransport: func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
			return c.Net.WrapTransport(id, inner)
		},
		TuneGossip:   tuneGossip,
		OpenLogStore: func(dir string) (cluster.LogStore, error) { return c.openLogStore(nd, dir) },
		Clock:        nd.Clock.Now,
	}
	return nd
}

// tuneGossip shortens memberlist's full-state sync (30 s on a LAN) so that
// a node declared dead during a partition is seen alive again within a
// second or two of the partition healing.
func tuneGossip(mc *memberlist.Config) { mc.PushPullInterval = time.Second }

// openLogStore opens a log store of nd: the real one (or the in-memory
// disk's), behind a FaultyStore the test can fail.
func (c *Cluster) openLogStore(nd *Node, dir string) (cluster.LogStore, error) {
	var st faultstore.LogStore
	var err error
	if c.memDisk != nil {
		mode := c.syncMode
		if filepath.Base(dir) == "meta" {
			mode = faultstore.SyncAlways
		}
		st, err = c.memDisk.Open(dir, mode)
	} else {
		st, err = cluster.OpenLogStore(dir, nd.Cfg.LogStore)
	}
	if err != nil {
		return nil, err
	}
	f := faultstore.Faulty(st)
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.diskErr != nil {
		f.FailWrites(nd.diskErr)
	}
	nd.disks = append(nd.disks, f)
	return f, nil
}

// PowerLoss drops what the stopped node nd had not synced to the in-memory
// disk (WithMemDisk), as a power cut drops the page cache.
func (c *Cluster) PowerLoss(nd *Node) int {
	c.T.Helper()
	if nd.Srv != nil {
		c.T.Fatalf("power loss of %s: kill it first", nd.ID)
	}
	if c.memDisk == nil {
		c.T.Fatalf("power loss of %s: the cluster has no in-memory disk (WithMemDisk)", nd.ID)
	}
	return c.memDisk.PowerLoss(nd.Cfg.DataDir)
}

// Clock is a wall clock a test can move: Now is time.Now plus an offset.
type Clock struct{ offset atomic.Int64 }

// Now is the node's wall clock.
func (k *Clock) Now() time.Time { return time.Now().Add(time.Duration(k.offset.Load())) }

// Jump moves the clock by d (negative: backwards) from where it is.
func (k *Clock) Jump(d time.Duration) { k.offset.Add(int64(d)) }

func (c *Cluster) gossipAddrs() []string {
	var out []string
	for _, nd := range c.nodes {
		out = append(out, nd.Cfg.GossipAddr)
	}
	return out
}

// StartAll starts every stopped node at once, the highest ID first (the
// order must not matter), and waits until each serves.
func (c *Cluster) StartAll() {
	c.T.Helper()
	var wg sync.WaitGroup
	nodes := c.Nodes()
	errs := make([]error, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		nd := nodes[i]
		if nd.Srv != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Start(nd)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.T.Fatalf("start %s: %v", nodes[i].ID, err)
		}
	}
}

// Start starts nd and waits until it serves.
func (c *Cluster) Start(nd *Node) error {
	srv, err := c.open(nd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := srv.Serve(ctx); err != nil {
		c.mu.Lock()
		nd.Srv = nil
		c.mu.Unlock()
		srv.Close()
		return err
	}
	return nil
}

// StartAsync opens nd (it is Running from now on, and its node can be
// inspected) and lets it serve clients once its cluster can, without
// waiting for that: for nodes that cannot be ready until another node
// comes back.
func (c *Cluster) StartAsync(nd *Node) {
	c.T.Helper()
	srv, err := c.open(nd)
	if err != nil {
		c.T.Fatalf("start %s: %v", nd.ID, err)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := srv.Serve(ctx); err != nil {
			c.T.Logf("%s did not come to serve clients: %v", nd.ID, err)
		}
	}()
}

// open opens nd's server (its node runs; clients are not served yet).
func (c *Cluster) open(nd *Node) (*embed.Server, error) {
	for _, edit := range c.edit {
		edit(nd)
	}
	logger := slog.New(slog.NewTextHandler(c.Logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", nd.ID)
	srv, err := embed.Open(nd.Cfg, logger)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	nd.Srv = srv
	c.mu.Unlock()
	return srv, nil
}

// Add starts a new node that joins the running cluster, and waits until
// it serves.
func (c *Cluster) Add(id string) *Node {
	c.T.Helper()
	nd := c.prepare(id)
	if err := c.Start(nd); err != nil {
		c.T.Fatalf("start %s: %v", id, err)
	}
	return nd
}

// AddAsync is Add without waiting (see StartAsync).
func (c *Cluster) AddAsync(id string) *Node {
	c.T.Helper()
	nd := c.prepare(id)
	c.StartAsync(nd)
	return nd
}

// prepare makes a new node that joins the running cluster's gossip.
func (c *Cluster) prepare(id string) *Node {
	nd := c.newNode(id, 1)
	nd.Cfg.Join = c.gossipAddrs()
	c.mu.Lock()
	c.nodes = append(c.nodes, nd)
	c.mu.Unlock()
	return nd
}

// Stop shuts nd down gracefully, as SIGTERM does.
func (c *Cluster) Stop(nd *Node) {
	c.mu.Lock()
	srv := nd.Srv
	nd.Srv = nil
	c.mu.Unlock()
	srv.Close()
	nd.forgetDisks()
}

// Kill stops nd as a crash would: no graceful leave, no hand-over.
func (c *Cluster) Kill(nd *Node) {
	c.T.Helper()
	c.mu.Lock()
	srv := nd.Srv
	nd.Srv = nil
	c.mu.Unlock()
	if err := srv.Kill(); err != nil {
		c.T.Logf("kill %s: %v", nd.ID, err)
	}
	nd.forgetDisks()
}

// forgetDisks drops the stores of a stopped node (its next start opens
// new ones).
func (nd *Node) forgetDisks() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	nd.disks = nil
}

// Wipe empties a stopped node's data dir (a node rebuilt on a new disk).
func (c *Cluster) Wipe(nd *Node) {
	c.T.Helper()
	if nd.Srv != nil {
		c.T.Fatalf("wipe %s: it is running", nd.ID)
	}
	if err := os.RemoveAll(nd.Cfg.DataDir); err != nil {
		c.T.Fatal(err)
	}
	if c.memDisk != nil {
		c.memDisk.Remove(nd.Cfg.DataDir)
	}
}

// Restart starts a stopped node again on the same ports; wipe empties its
// data dir first (a node rebuilt on a new disk).
func (c *Cluster) Restart(nd *Node, wipe bool) {
	c.T.Helper()
	if wipe {
		c.Wipe(nd)
	}
	nd.Cfg.BootstrapExpect = 1 // a restarted node never bootstraps anyway
	if err := c.Start(nd); err != nil {
		c.T.Fatalf("restart %s: %v", nd.ID, err)
	}
}

// Nodes lists every node, running or not, in the order they were made.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

// Running lists the running nodes.
func (c *Cluster) Running() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Node
	for _, nd := range c.nodes {
		if nd.Srv != nil {
			out = append(out, nd)
		}
	}
	return out
}

// Node returns the node named id.
func (c *Cluster) Node(id string) *Node {
	c.T.Helper()
	for _, nd := range c.Nodes() {
		if nd.ID == id {
			return nd
		}
	}
	c.T.Fatalf("no node %s", id)
	return nil
}

// Client is a go-redis ClusterClient seeded with every running node.
func (c *Cluster) Client() *redis.ClusterClient {
	var addrs []string
	for _, nd := range c.Running() {
		addrs = append(addrs, nd.Cfg.Addr)
	}
	// go-redis refreshes its slot map on MOVED, or every
	// ClusterStateReloadInterval (60 s by default): a client whose map
	// names a dead or stalled leader (connection refused, TRYAGAIN) keeps
	// asking it until then. One second lets tests see failovers as an
	// application tuned for them would (README, Correctness).
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, MaxRedirects: 16, ReadTimeout: 10 * time.Second,
		MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 500 * time.Millisecond,
		ClusterStateReloadInterval: time.Second,
	})
	c.T.Cleanup(func() { _ = cc.Close() })
	return cc
}

// WaitUntil polls cond until it returns "" or Timeout passes; cond says
// what it still waits for, which the failure reports.
func (c *Cluster) WaitUntil(what string, cond func() string) {
	c.T.Helper()
	Poll(c.T, Timeout, what, cond)
}

// Poll checks cond every pollEvery until it returns "" and fails t if it
// still does not after timeout; cond says what it still waits for.
func Poll(t testing.TB, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		last := cond()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %v", what, last, timeout)
		}
		<-tick.C
	}
}

// Settled reports what keeps the cluster from its steady state: every
// running node registered, every shard with a leader and exactly the
// placed voters (as the leader reported them) and led by its preferred
// leader, replicas spread evenly and leaderships at most ceil(shards/nodes)+1
// per node, and every node ready.
func (c *Cluster) Settled(wantNodes int) string {
	nodes := c.Running()
	if len(nodes) == 0 {
		return "no node running"
	}
	st := nodes[0].Srv.Node().Status()
	if len(st.Nodes) != wantNodes {
		return fmt.Sprintf("%d nodes registered, want %d", len(st.Nodes), wantNodes)
	}
	v := nodes[0].Srv.Node().View()
	if len(v.Shards) != c.Shards {
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
	limit := (c.Shards+wantNodes-1)/wantNodes + 1
	lo, hi := c.Shards*replicas/wantNodes, (c.Shards*replicas+wantNodes-1)/wantNodes
	for _, n := range st.Nodes {
		if n.Leads > limit {
			return fmt.Sprintf("%s leads %d shards, limit %d", n.ID, n.Leads, limit)
		}
		if n.Replicas < lo || n.Replicas > hi {
			return fmt.Sprintf("%s holds %d replicas, want %d-%d", n.ID, n.Replicas, lo, hi)
		}
	}
	for _, nd := range nodes {
		if !nd.Srv.Node().Ready() {
			return nd.ID + " not ready"
		}
	}
	return ""
}

// LeaderOf is the running node that leads key's shard, per the first
// running node's view.
func (c *Cluster) LeaderOf(key string) *Node {
	c.T.Helper()
	running := c.Running()
	v := running[0].Srv.Node().View()
	slot := fsm.KeySlot([]byte(key))
	for _, s := range v.Shards {
		if slot >= s.Lo && slot <= s.Hi {
			for _, r := range running {
				if r.ID == s.Leader {
					return r
				}
			}
		}
	}
	c.T.Fatalf("no running leader for %q in %+v", key, v.Shards)
	return nil
}

// CaughtUp reports what keeps every running replica from having applied
// what its shard's leader had applied when the check began ("" once all
// have).
func (c *Cluster) CaughtUp() func() string {
	leaders := map[string]uint64{}
	for _, nd := range c.Running() {
		for _, s := range nd.Srv.Node().Status().Shards {
			if s.Leader {
				leaders[s.ID] = s.RaftApplied
			}
		}
	}
	return func() string {
		for _, nd := range c.Running() {
			for _, s := range nd.Srv.Node().Status().Shards {
				if s.RaftApplied < leaders[s.ID] {
					return fmt.Sprintf("%s shard %s applied %d < leader's %d", nd.ID, s.ID, s.RaftApplied, leaders[s.ID])
				}
			}
		}
		return ""
	}
}

// Rebuilt reports what keeps nd from holding, as a voter, a replica of
// every shard placed on it, each listed by its shard's leader under the
// replica's own ID ("" once it does): what a node restarted on an empty
// disk must reach before it counts again.
func (c *Cluster) Rebuilt(nd *Node) string {
	st := nd.Srv.Node().Status()
	placed := 0
	for _, n := range st.Nodes {
		if n.ID == nd.ID {
			placed = n.Replicas
		}
	}
	voters := 0
	for _, s := range st.Shards {
		if s.Suffrage == "voter" {
			voters++
		}
	}
	if voters != placed || len(st.Shards) != placed {
		return fmt.Sprintf("%s holds %d replicas, %d of them voters; %d placed", nd.ID, len(st.Shards), voters, placed)
	}
	return ""
}

// IDs returns the nodes' IDs, sorted.
func IDs(nodes []*Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.ID)
	}
	slices.Sort(out)
	return out
}

// handedOut remembers every port FreeAddr returned, so that two nodes of
// one test never get the same one.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreeAddr returns a loopback address with a port that was free a moment
// ago and that no earlier call returned.
func FreeAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen for a free port: %v", err)
		}
		addr := ln.Addr().(*net.TCPAddr)
		if err := ln.Close(); err != nil {
			t.Fatalf("close free-port listener: %v", err)
		}
		if !handedOut.ports[addr.Port] {
			handedOut.ports[addr.Port] = true
			return addr.String()
		}
	}
}

// RawCommand sends one command over a fresh connection and returns the
// first line of the reply (enough for simple and error replies); an I/O
// error is returned as "io: <error>".
func RawCommand(addr string, timeout time.Duration, args ...string) string {
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

// LockedBuffer is a bytes.Buffer safe for concurrent writers (loggers,
// process output) and the test reading it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tail returns the last n bytes written.
func (l *LockedBuffer) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
