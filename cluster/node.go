package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// NodeConfig is what OpenNode needs. For now a node runs one shard, "0",
// whose only voter is this node.
type NodeConfig struct {
	NodeID  string
	DataDir string // shards live in <DataDir>/shards/<id>/

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
// (resp.Backend: Write, Read, Watch) without importing resp.
type Node struct {
	id     string
	shards []*Shard
}

// OpenNode opens the node's shard(s).
func OpenNode(cfg NodeConfig) (*Node, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	const id = "0"
	sh, err := OpenShard(ShardConfig{
		ID: id, NodeID: cfg.NodeID, Dir: filepath.Join(cfg.DataDir, "shards", id),
		RaftListener: cfg.RaftListener, RaftAddr: cfg.RaftAddr, RaftAdvertise: cfg.RaftAdvertise,
		SnapshotThreshold: cfg.SnapshotThreshold, SnapshotInterval: cfg.SnapshotInterval,
		TrailingLogs:     cfg.TrailingLogs,
		HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLeaseTimeout,
		Logger:             logger.With("component", "cluster"),
	})
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.NodeID, err)
	}
	return &Node{id: cfg.NodeID, shards: []*Shard{sh}}, nil
}

// shard picks the shard that owns key. With one shard, key is ignored.
func (n *Node) shard([]byte) *Shard { return n.shards[0] }

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

// WaitReady blocks until Ready or ctx ends.
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
	for _, s := range n.shards {
		ss := s.Status()
		st.Leader = st.Leader && ss.Leader
		st.Ready = st.Ready && ss.Ready
		st.Shards = append(st.Shards, ss)
	}
	return st
}

// Close stops every shard.
func (n *Node) Close() error {
	var first error
	for _, s := range n.shards {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
