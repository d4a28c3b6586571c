package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// NodeConfig is what OpenNode needs. A node runs Shards Raft groups, each a
// one-voter group on this node for now, all over one multiplexed Raft port.
type NodeConfig struct {
	NodeID  string
	DataDir string // cluster.json and <DataDir>/shards/<id>/
	// Shards is the number of shards the slots are split into (1-16384; 0
	// means 1). It is fixed when the data dir is first used.
	Shards int

	RaftListener  net.Listener // optional; else listen on RaftAddr
	RaftAddr      string
	RaftAdvertise string

	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	Logger *slog.Logger
}

// Node holds this process's shards and implements what the RESP server needs
// (resp.Backend: Write, Read, Watch, and Shards, ShardOfSlot, WriteShard,
// ReadShard for fan-out) without importing resp. Keys are routed by hash
// slot (fsm.KeySlot) to the shard owning the slot.
type Node struct {
	id     string
	layout Layout
	mux    *Mux
	shards []*Shard
}

// OpenNode reads (or creates) the data dir's shard layout, starts the Raft
// port's mux and opens every shard on it.
func OpenNode(cfg NodeConfig) (_ *Node, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "cluster")
	n := max(cfg.Shards, 1)
	layout, err := loadLayout(cfg.DataDir, n)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	mux, err := openMux(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	node := &Node{id: cfg.NodeID, layout: layout, mux: mux}
	defer func() {
		if err != nil {
			_ = node.Close()
		}
	}()
	for i := range layout.Shards {
		sh, err := node.openShard(cfg, i, logger)
		if err != nil {
			return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
		}
		node.shards = append(node.shards, sh)
	}
	return node, nil
}

// openMux starts the node's one Raft port.
func openMux(cfg NodeConfig, logger *slog.Logger) (*Mux, error) {
	ln, adv, err := listenRaft(cfg.RaftListener, cfg.RaftAddr, cfg.RaftAdvertise)
	if err != nil {
		return nil, err
	}
	return NewMux(ln, adv, logger.With("part", "mux")), nil
}

// openShard opens shard i under <DataDir>/shards/<i>/, its Raft traffic in
// the mux group "shard-<i>".
func (n *Node) openShard(cfg NodeConfig, i int, logger *slog.Logger) (*Shard, error) {
	id := strconv.Itoa(i)
	layer, err := n.mux.Layer(ShardGroup(i))
	if err != nil {
		return nil, err
	}
	sh, err := OpenShard(ShardConfig{
		ID: id, NodeID: cfg.NodeID, Dir: filepath.Join(cfg.DataDir, "shards", id), Layer: layer,
		SnapshotThreshold: cfg.SnapshotThreshold, SnapshotInterval: cfg.SnapshotInterval,
		TrailingLogs:     cfg.TrailingLogs,
		HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLeaseTimeout,
		Logger:             logger,
	})
	if err != nil {
		_ = layer.Close()
		return nil, err
	}
	return sh, nil
}

// ShardGroup is shard i's group name on the Raft port's mux.
func ShardGroup(i int) string { return "shard-" + strconv.Itoa(i) }

// Shards is the number of shards on this node, fixed at bootstrap.
func (n *Node) Shards() int { return len(n.shards) }

// SlotRange returns the first and last slot that shard owns.
func (n *Node) SlotRange(shard int) (lo, hi int) {
	r := n.layout.Ranges[shard]
	return r[0], r[1]
}

// ShardOfSlot returns the shard that owns slot (0-16383).
func (n *Node) ShardOfSlot(slot int) int { return n.layout.ShardOfSlot(slot) }

// shard picks the shard that owns key's slot; a nil key (a keyless
// command) goes to shard 0.
func (n *Node) shard(key []byte) *Shard {
	if key == nil {
		return n.shards[0]
	}
	return n.shards[n.layout.ShardOfSlot(fsm.KeySlot(key))]
}

// Write proposes req through the key's shard and returns its reply once
// applied. If ctx ends after the request was proposed, the write may still
// happen; only its answer is lost.
func (n *Node) Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error) {
	return n.shard(key).Write(ctx, req)
}

// Read runs fn against the key's shard after a read-index barrier, so it
// sees every write acknowledged before Read was called. fn calls m.Read...,
// which take the machine's read lock.
func (n *Node) Read(ctx context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	return n.shard(key).Read(ctx, fn)
}

// Watch registers interest in keys of key's shard: the channel receives a
// value when one of them is written, or when the shard stops being able to
// serve (leadership lost, shutdown). cancel must be called once.
func (n *Node) Watch(key []byte, keys []string) (<-chan struct{}, func()) {
	return n.shard(key).Watch(keys)
}

// WriteShard proposes req through shard (0 <= shard < Shards()), for
// commands that fan out to every shard (FLUSHALL) or have no key.
func (n *Node) WriteShard(ctx context.Context, shard int, req fsm.Request) (fsm.Reply, error) {
	return n.shards[shard].Write(ctx, req)
}

// ReadShard runs fn against shard after a read-index barrier, for commands
// that fan out to every shard (DBSIZE, KEYS, SCAN).
func (n *Node) ReadShard(ctx context.Context, shard int, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	return n.shards[shard].Read(ctx, fn)
}

// Leader reports whether this node leads every one of its shards.
func (n *Node) Leader() bool {
	for _, s := range n.shards {
		if !s.Leader() {
			return false
		}
	}
	return true
}

// Ready reports whether every shard has a leader here that applied its log.
func (n *Node) Ready() bool {
	for _, s := range n.shards {
		if !s.Ready() {
			return false
		}
	}
	return true
}

// WaitReady blocks until every shard is Ready or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	for _, s := range n.shards {
		if err := s.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// NodeStatus is the node's state as /status shows it.
type NodeStatus struct {
	NodeID string        `json:"node_id"`
	Leader bool          `json:"leader"`
	Ready  bool          `json:"ready"`
	Shards []ShardStatus `json:"shards"`
}

// Status returns the node's and its shards' state.
func (n *Node) Status() NodeStatus {
	st := NodeStatus{NodeID: n.id, Leader: true, Ready: true}
	for i, s := range n.shards {
		ss := s.Status()
		ss.SlotLo, ss.SlotHi = n.SlotRange(i)
		st.Leader = st.Leader && ss.Leader
		st.Ready = st.Ready && ss.Ready
		st.Shards = append(st.Shards, ss)
	}
	return st
}

// Close stops every shard, then the Raft port.
func (n *Node) Close() error {
	var errs []error
	for _, s := range n.shards {
		errs = append(errs, s.Close())
	}
	errs = append(errs, n.mux.Close())
	return errors.Join(errs...)
}

// ID is this node's ID (--node-id).
func (n *Node) ID() string { return n.id }
