package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/streamraft/streamraft/fsm"
)

// NodeConfig is what OpenNode needs.
type NodeConfig struct {
	NodeID  string
	DataDir string // cluster.json, meta/ and shards/<id>/
	// Shards is the number of shards the slots are split into when this
	// node forms a new cluster (1-16384; 0 means 1). A node that joins an
	// existing cluster takes the cluster's.
	Shards int
	// Replicas is the wanted number of voters per shard when this node
	// forms the cluster (0 means 3); capped by the number of nodes.
	Replicas int

	RaftListener  net.Listener // optional; else listen on RaftAddr
	RaftAddr      string
	RaftAdvertise string
	// RESPAddr and HTTPAddr are this node's advertised client and HTTP
	// addresses, written to the cluster registry (MOVED points there).
	RESPAddr, HTTPAddr string

	// GossipAddr and Join enable discovery (hashicorp/memberlist): with no
	// Join seeds the node runs alone and opens no gossip port.
	GossipAddr      string
	GossipAdvertise string
	Join            []string
	// BootstrapExpect is how many nodes must see each other before the
	// cluster forms (0 means 1: a lone node forms it at once).
	BootstrapExpect int
	// DeadNodeTimeout is how long a node may be unreachable before its
	// replicas are moved to other nodes (0 means 10 minutes).
	DeadNodeTimeout time.Duration

	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// LogStore is the shards' Raft log store: LogStoreBolt ("" too) or
	// LogStoreWAL.
	LogStore string

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	// Test hooks; nil in production. Dial opens connections to other
	// nodes' Raft ports (default: plain TCP). GossipTransport wraps the
	// transport memberlist gossips over. OpenLogStore replaces every
	// group's log store. Clock stamps proposed entries (default:
	// time.Now).
	Dial            func(ctx context.Context, network, addr string) (net.Conn, error)
	GossipTransport func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
	TuneGossip      func(*memberlist.Config)
	OpenLogStore    func(dir string) (LogStore, error)
	Clock           func() time.Time

	Logger *slog.Logger
}

// Default cluster settings.
const (
	DefaultDeadNodeTimeout = 10 * time.Minute
)

// Node is one streamraft node: the meta group's replica, the shards placed
// on it, membership, and the controller that keeps them in line with the
// cluster configuration (controller.go). It implements what the RESP
// server needs (Write, Read, Watch, ...) without importing resp: keys are
// routed by hash slot to their shard, and a shard this node does not lead
// answers a *NotLeaderError naming the leader.
type Node struct {
	id     string
	cfg    NodeConfig
	logger *slog.Logger
	mux    *Mux
	meta   *metaGroup
	rpc    *rpcServer

	members atomic.Pointer[Membership] // nil without --join

	identMu sync.Mutex
	ident   nodeIdentity // node.json: this data dir's node and cluster IDs

	// announced: replica addresses other nodes announced to this node as
	// their shards' leader (handleAnnounce; read by the controller).
	announced announcements
	// foreignSeen: gossip members of other clusters seen, ID -> their
	// cluster ID (Node.foreign).
	foreignMu   sync.Mutex
	foreignSeen map[string]string
	// rebuilt counts the damaged replicas moved aside and replaced by
	// empty ones since start (damage.go).
	rebuilt atomic.Uint64
	// fatal, once set, is why this node can never serve (failStart).
	fatal atomic.Pointer[error]

	layout atomic.Pointer[Layout] // nil until the cluster configuration is known
	mu     sync.RWMutex
	shards []*Shard // by shard index; nil where no replica is open here

	kick       chan struct{} // wakes the controller
	stop       chan struct{}
	ctlDone    chan struct{} // closed when the controller has returned
	ctlStarted bool          // set by OpenNode before it returns
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
	ctl        controller
}

// NotLeaderError says which node leads a shard this node cannot serve.
type NotLeaderError struct {
	Shard    int
	LeaderID string
	Addr     string // the leader's advertised RESP address
}

func (e *NotLeaderError) Error() string {
	return fmt.Sprintf("cluster: shard %d is led by %s at %s", e.Shard, e.LeaderID, e.Addr)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// ErrNotFormed: the cluster configuration does not exist yet (the node
// waits for --bootstrap-expect nodes, or to be added).
var ErrNotFormed = errors.New("cluster: not formed yet")

// OpenNode starts the Raft port, the meta group, the shards this node
// already holds, membership when Join is set, and the controller. It does
// not wait for the cluster: see WaitReady.
func OpenNode(cfg NodeConfig) (_ *Node, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "cluster")
	cfg.Shards = max(cfg.Shards, 1)
	if cfg.Replicas <= 0 {
		cfg.Replicas = defaultReplicas
	}
	cfg.BootstrapExpect = max(cfg.BootstrapExpect, 1)
	if cfg.DeadNodeTimeout <= 0 {
		cfg.DeadNodeTimeout = DefaultDeadNodeTimeout
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("open node %s: create data dir: %w", cfg.NodeID, err)
	}
	ident, err := loadNodeIdentity(cfg.DataDir, cfg.NodeID)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	mux, err := openMux(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	mux.SetClusterID(ident.ClusterID)
	if cfg.RaftAdvertise == "" {
		cfg.RaftAdvertise = mux.Addr().String()
	}
	n := &Node{id: cfg.NodeID, cfg: cfg, logger: logger, mux: mux, ident: ident,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), ctlDone: make(chan struct{})}
	n.ctl = newController()
	defer func() {
		if err != nil {
			_ = n.Close()
		}
	}()
	if err := n.openMeta(); err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	if err := n.openExistingShards(); err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	if len(cfg.Join) > 0 {
		if err := n.startMembership(); err != nil {
			return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
		}
	}
	n.ctlStarted = true
	go func() {
		defer close(n.ctlDone)
		n.runController()
	}()
	return n, nil
}

// openMux starts the node's one Raft port.
func openMux(cfg NodeConfig, logger *slog.Logger) (*Mux, error) {
	ln, adv, err := listenRaft(cfg.RaftListener, cfg.RaftAddr, cfg.RaftAdvertise)
	if err != nil {
		return nil, err
	}
	m := NewMux(ln, adv, logger.With("part", "mux"))
	if cfg.Dial != nil {
		m.dial = cfg.Dial
	}
	return m, nil
}

func (n *Node) openMeta() error {
	if err := n.checkOnOpen(filepath.Join(n.cfg.DataDir, metaDir), ReplicaMeta, metaGroupName, n.otherMetaReplicas); err != nil {
		return err
	}
	replica, err := loadReplicaID(filepath.Join(n.cfg.DataDir, metaDir))
	if err != nil {
		return fmt.Errorf("meta group: %w", err)
	}
	layer, err := n.mux.Layer(metaGroupName, replica)
	if err != nil {
		return err
	}
	if n.meta, err = openMetaGroup(n.cfg, layer, n.kick, n.logger); err != nil {
		_ = layer.Close()
		return err
	}
	rl, err := n.mux.Layer(rpcGroupName, "")
	if err != nil {
		return err
	}
	n.rpc = &rpcServer{layer: rl, handle: n.handleRPC, logger: n.logger}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.rpc.serve()
	}()
	return nil
}

// openExistingShards opens every shard that has a directory here, so a
// restarted node serves its replicas before the meta group has caught up.
// The layout comes from cluster.json, written when the node first learned
// the cluster configuration.
func (n *Node) openExistingShards() error {
	if !hasLayout(n.cfg.DataDir) {
		return nil
	}
	l, err := loadLayout(n.cfg.DataDir, n.cfg.Shards)
	if err != nil {
		return err
	}
	n.setLayout(l)
	for i := range l.Shards {
		if _, err := os.Stat(n.shardDir(i)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := n.openShard(i); errors.Is(err, errDamageUndecided) {
			continue // the controller opens it once the configuration says more
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) setLayout(l Layout) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.layout.Load() != nil {
		return
	}
	n.shards = make([]*Shard, l.Shards)
	n.layout.Store(&l)
}

func (n *Node) shardDir(i int) string {
	return filepath.Join(n.cfg.DataDir, "shards", strconv.Itoa(i))
}

// openShard opens shard i's replica under <DataDir>/shards/<i>/, its Raft
// traffic in the mux group "shard-<i>". It never bootstraps the group.
func (n *Node) openShard(i int) error {
	id := strconv.Itoa(i)
	if err := n.checkOnOpen(n.shardDir(i), ReplicaShard, ShardGroup(i), n.otherShardReplicas(i)); err != nil {
		return err
	}
	replica, err := loadReplicaID(n.shardDir(i))
	if err != nil {
		return fmt.Errorf("shard %d: %w", i, err)
	}
	layer, err := n.mux.Layer(ShardGroup(i), replica)
	if err != nil {
		return err
	}
	cfg := n.cfg
	sh, err := OpenShard(ShardConfig{
		ID: id, NodeID: cfg.NodeID, Dir: n.shardDir(i), Layer: layer, Join: true, LogStore: cfg.LogStore,
		SnapshotThreshold: cfg.SnapshotThreshold, SnapshotInterval: cfg.SnapshotInterval,
		TrailingLogs:     cfg.TrailingLogs,
		HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLeaseTimeout,
		OpenLogStore:       cfg.OpenLogStore, Clock: cfg.Clock,
		Logger:       n.logger,
		OnLeadership: n.wake,
	})
	if err != nil {
		_ = layer.Close()
		return err
	}
	n.mu.Lock()
	n.shards[i] = sh
	n.mu.Unlock()
	return nil
}

// closeShard stops shard i's replica here and, when remove is set, deletes
// its directory (the node no longer holds a replica).
func (n *Node) closeShard(i int, remove bool) error {
	n.mu.Lock()
	sh := n.shards[i]
	n.shards[i] = nil
	n.mu.Unlock()
	if sh == nil {
		return nil
	}
	err := sh.Close()
	if remove {
		err = errors.Join(err, os.RemoveAll(n.shardDir(i)))
	}
	return err
}

// wake asks the controller to run now.
func (n *Node) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// ShardGroup is shard i's group name on the Raft port's mux.
func ShardGroup(i int) string { return "shard-" + strconv.Itoa(i) }

// ID is this node's ID (--node-id).
func (n *Node) ID() string { return n.id }

// Shards is the number of shards of the cluster (0 before it is known).
func (n *Node) Shards() int {
	if l := n.layout.Load(); l != nil {
		return l.Shards
	}
	return 0
}

// SlotRange returns the first and last slot that shard owns.
func (n *Node) SlotRange(shard int) (lo, hi int) {
	r := n.layout.Load().Ranges[shard]
	return r[0], r[1]
}

// ShardOfSlot returns the shard that owns slot (0-16383).
func (n *Node) ShardOfSlot(slot int) int { return n.layout.Load().ShardOfSlot(slot) }

// shardOfKey is the shard of key's slot; a nil key (a keyless command) is
// shard 0's.
func (n *Node) shardOfKey(key []byte) (int, error) {
	l := n.layout.Load()
	if l == nil {
		return 0, ErrNotFormed
	}
	if key == nil {
		return 0, nil
	}
	return l.ShardOfSlot(fsm.KeySlot(key)), nil
}

// local returns shard i's replica here, nil if none is open.
func (n *Node) local(i int) *Shard {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if i < 0 || i >= len(n.shards) {
		return nil
	}
	return n.shards[i]
}

// leading returns shard i's replica when this node leads it and can serve,
// else the error that sends the client to the leader.
func (n *Node) leading(i int) (*Shard, error) {
	if sh := n.local(i); sh != nil && sh.Ready() {
		return sh, nil
	}
	return nil, n.routeErr(i)
}

// routeErr says where shard i is served: a *NotLeaderError naming its
// leader, ErrNoLeader while it has none (or none this node knows of), or
// ErrNotFormed before the cluster exists.
func (n *Node) routeErr(i int) error {
	st := n.meta.state()
	if !st.Initialized() {
		return ErrNotFormed
	}
	leader := ""
	if sh := n.local(i); sh != nil {
		leader = n.awaitLeader(sh)
	} else if i < len(st.Groups) {
		leader = st.Groups[i].Leader
	}
	if leader == "" || leader == n.id {
		return fmt.Errorf("shard %d: %w", i, ErrNoLeader)
	}
	info, ok := st.Node(leader)
	if !ok || info.RESPAddr == "" {
		return fmt.Errorf("shard %d: leader %s has no known address: %w", i, leader, ErrNoLeader)
	}
	return &NotLeaderError{Shard: i, LeaderID: leader, Addr: info.RESPAddr}
}

// leaderWait bounds how long a redirect waits for a shard's new leader to
// become known: a leadership transfer completes in a few milliseconds, and
// a MOVED sends the client straight there, where a TRYAGAIN would make it
// back off and retry.
const leaderWait = 500 * time.Millisecond

// awaitLeader is the ID of the leader sh's replica knows, waiting up to
// leaderWait while it knows none.
func (n *Node) awaitLeader(sh *Shard) string {
	deadline := time.Now().Add(leaderWait)
	for {
		if id := sh.LeaderID(); id != "" || time.Now().After(deadline) {
			return id
		}
		select {
		case <-n.stop:
			return ""
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// served turns an error from a shard this node was leading into the
// redirect it now deserves (leadership moved while the call ran).
func (n *Node) served(i int, r fsm.Reply, err error) (fsm.Reply, error) {
	if err != nil && (errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) || errors.Is(err, ErrShutdown)) {
		if rerr := n.routeErr(i); rerr != nil && !errors.Is(err, ErrShutdown) {
			return r, rerr
		}
	}
	return r, err
}

// Write proposes req through the key's shard and returns its reply once
// applied. If ctx ends after the request was proposed, the write may still
// happen; only its answer is lost.
func (n *Node) Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error) {
	i, err := n.shardOfKey(key)
	if err != nil {
		return fsm.Reply{}, err
	}
	return n.WriteShard(ctx, i, req)
}

// Read runs fn against the key's shard after a read-index barrier, so it
// sees every write acknowledged before Read was called.
func (n *Node) Read(ctx context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	i, err := n.shardOfKey(key)
	if err != nil {
		return fsm.Reply{}, err
	}
	return n.ReadShard(ctx, i, fn)
}

// ReadLocal runs fn against this node's replica of the key's shard without
// checking leadership (READONLY clients): the state may be stale.
func (n *Node) ReadLocal(_ context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	i, err := n.shardOfKey(key)
	if err != nil {
		return fsm.Reply{}, err
	}
	sh := n.local(i)
	if sh == nil {
		return fsm.Reply{}, n.routeErr(i)
	}
	return fn(sh.m), nil
}

// Watch registers interest in keys of key's shard: the channel receives a
// value when one of them is written, or when the shard stops being able to
// serve here (leadership lost, shutdown). cancel must be called once.
func (n *Node) Watch(key []byte, keys []string) (<-chan struct{}, func()) {
	i, err := n.shardOfKey(key)
	var sh *Shard
	if err == nil {
		sh = n.local(i)
	}
	if sh == nil {
		ch := make(chan struct{}, 1)
		ch <- struct{}{} // the retry finds where the shard is served
		return ch, func() {}
	}
	return sh.Watch(keys)
}

// WriteShard proposes req through shard (0 <= shard < Shards()).
func (n *Node) WriteShard(ctx context.Context, shard int, req fsm.Request) (fsm.Reply, error) {
	sh, err := n.leading(shard)
	if err != nil {
		return fsm.Reply{}, err
	}
	r, err := sh.Write(ctx, req)
	return n.served(shard, r, err)
}

// Submit is Write without waiting: the returned function waits for the
// reply. Writes one caller submits one after another are applied in that
// order (per shard; different shards are independent), which lets a
// connection put its whole pipeline into the log at once.
func (n *Node) Submit(ctx context.Context, key []byte, req fsm.Request) (wait func() (fsm.Reply, error)) {
	i, err := n.shardOfKey(key)
	if err != nil {
		return failed(err)
	}
	sh, err := n.leading(i)
	if err != nil {
		return failed(err)
	}
	w := sh.Submit(ctx, req)
	return func() (fsm.Reply, error) {
		r, err := w()
		return n.served(i, r, err)
	}
}

// ReadShard runs fn against shard after a read-index barrier.
func (n *Node) ReadShard(ctx context.Context, shard int, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	sh, err := n.leading(shard)
	if err != nil {
		return fsm.Reply{}, err
	}
	r, err := sh.Read(ctx, fn)
	return n.served(shard, r, err)
}

// Ready reports whether the cluster is formed and every shard has a
// leader this node knows of, the ones led here having applied their log.
func (n *Node) Ready() bool {
	st := n.meta.state()
	if !st.Initialized() || n.layout.Load() == nil {
		return false
	}
	for i, g := range st.Groups {
		sh := n.local(i)
		switch {
		case sh == nil && slices.Contains(g.Replicas, n.id):
			return false // placed here, not open (yet)
		case sh != nil && sh.Leader():
			if !sh.Ready() {
				return false
			}
		case sh != nil && sh.LeaderID() != "":
		case sh == nil && st.Groups[i].Leader != "":
		default:
			return false
		}
	}
	return true
}

// WaitReady blocks until Ready or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !n.Ready() {
		if err := n.fatal.Load(); err != nil {
			return *err
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("wait for the cluster: %w", ctx.Err())
		case <-n.stop:
			return ErrShutdown
		}
	}
	return nil
}

// Members lists the gossip pool; nil without membership.
func (n *Node) Members() []Member {
	if m := n.members.Load(); m != nil {
		return m.Members()
	}
	return nil
}

// Close stops the controller, membership (leaving the pool), every shard,
// the meta group, then the Raft port.
func (n *Node) Close() error { return n.close(true) }

// Kill stops the node as a crash would look to the others: it does not
// leave the gossip pool (they find it failed) and hands nothing over.
// What is on disk is what Raft fsynced. For tests of failures.
func (n *Node) Kill() error { return n.close(false) }

func (n *Node) close(leave bool) error {
	n.closeOnce.Do(func() {
		close(n.stop)
		if n.ctlStarted {
			// The controller's current step (at most one Raft change or
			// RPC) ends first, so it cannot open a replica behind Close's
			// back.
			<-n.ctlDone
		}
		var errs []error
		if m := n.members.Load(); m != nil {
			if leave {
				if err := m.Leave(2 * time.Second); err != nil {
					n.logger.Warn("leave the gossip pool", "err", err)
				}
			}
			errs = append(errs, m.Shutdown())
		}
		n.mu.Lock()
		shards := n.shards
		n.shards = make([]*Shard, len(shards))
		n.mu.Unlock()
		for _, s := range shards {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
		if n.meta != nil {
			errs = append(errs, n.meta.close())
		}
		if n.rpc != nil {
			errs = append(errs, n.rpc.close())
		}
		errs = append(errs, n.mux.Close())
		n.wg.Wait()
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// ShardDigest is the digest of this node's replica of shard and the index
// it had applied (Shard.Digest), for comparing replicas: CLUSTER
// SHARDDIGEST.
func (n *Node) ShardDigest(shard int) (applied uint64, digest string, err error) {
	sh := n.local(shard)
	if sh == nil {
		return 0, "", fmt.Errorf("this node holds no replica of shard %d", shard)
	}
	return sh.Digest()
}
