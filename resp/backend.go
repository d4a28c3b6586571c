package resp

import (
	"context"
	"errors"
	"fmt"

	"github.com/streamraft/streamraft/fsm"
)

// Backend is what the RESP server needs from the replicated store. cmd wires
// a *cluster.Node in; key is the command's first key (nil for keyless
// commands) and chooses the shard.
type Backend interface {
	// Write proposes req through Raft and returns its reply once applied.
	Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error)
	// Submit is Write without waiting: wait returns the reply. Writes one
	// connection submits one after another are applied in that order, so
	// a pipeline of writes goes into the log together.
	Submit(ctx context.Context, key []byte, req fsm.Request) (wait func() (fsm.Reply, error))
	// Read runs fn against the shard's state after a read-index barrier, so
	// the read sees every write acknowledged before it started.
	Read(ctx context.Context, key []byte, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error)
	// Watch registers interest in keys: the channel receives a value whenever
	// one of them is signalled by an applied write, or when this node stops
	// being able to serve them (then the retried command gets the error).
	// cancel must be called exactly once.
	Watch(key []byte, keys []string) (ch <-chan struct{}, cancel func())

	// Shards is the number of shards (Raft groups) the node's slots are
	// split into, at least 1; keyless commands fan out over all of them.
	Shards() int
	// ShardOfSlot returns the shard (0 <= shard < Shards()) owning slot.
	ShardOfSlot(slot int) int
	// WriteShard is Write on one shard, for keyless commands (FLUSHALL).
	WriteShard(ctx context.Context, shard int, req fsm.Request) (fsm.Reply, error)
	// ReadShard is Read on one shard, for keyless commands (DBSIZE, KEYS,
	// SCAN) and slot commands (CLUSTER COUNTKEYSINSLOT).
	ReadShard(ctx context.Context, shard int, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error)

	// ReadLocal runs fn against this node's own replica of key's shard
	// without any leadership check, for clients that sent READONLY: the
	// state may be stale. A node that holds no replica of the shard returns
	// a *MovedError naming the leader.
	ReadLocal(ctx context.Context, key []byte, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error)
	// Topology describes the cluster as this node sees it now: the nodes,
	// and for every shard its slots, leader and followers. CLUSTER SLOTS,
	// SHARDS, NODES and INFO are drawn from it, and keyless commands fan
	// out over the shards it says this node leads.
	Topology() Topology
	// Forget drains node id (a Topology node ID) out of the cluster:
	// CLUSTER FORGET.
	Forget(ctx context.Context, id string) error
}

// Topology is the cluster as one node sees it.
type Topology struct {
	// MyID is this node's ID (its --node-id, not yet hex).
	MyID string
	// Epoch is the configuration epoch: it grows with every change of the
	// cluster configuration (CLUSTER INFO's cluster_current_epoch).
	Epoch uint64
	// Nodes lists every node of the cluster, sorted by ID.
	Nodes []TopologyNode
	// Shards lists every shard in slot order; their ranges cover 0-16383.
	Shards []TopologyShard
}

// TopologyNode is one node of the cluster.
type TopologyNode struct {
	ID   string
	Addr string // advertised RESP host:port; "" if unknown
	// BusPort is the node's Raft port, shown after '@' in CLUSTER NODES;
	// 0 means Addr's port + 10000.
	BusPort int
	// Up is false while the node is suspected or known to be down.
	Up bool
}

// TopologyShard is one shard: a contiguous slot range served by a Raft
// group whose leader is the range's master, its other voters replicas.
type TopologyShard struct {
	Lo, Hi int
	// Leader is the leading node's ID; "" while the shard has no leader.
	Leader string
	// Followers are the other voters' IDs, sorted.
	Followers []string
}

// Errors a Backend returns (possibly wrapped) to have the client redirected
// or told to retry. Any other error becomes "-ERR <text>".
var (
	// ErrTryAgain: the shard is electing a leader; the client should retry.
	ErrTryAgain = errors.New("shard has no leader")
	// ErrClusterDown: the shard cannot serve (no quorum, shutting down).
	ErrClusterDown = errors.New("cluster is down")
	// ErrUncertain: a write reached the log, but whether it was applied is
	// unknown (its shard's leader changed before it was known to be
	// committed, and the log did not settle in time). Every redirect above
	// means "not applied", so clients retry them; this one they must not
	// retry blindly.
	ErrUncertain = errors.New("write outcome unknown")
)

// MovedError sends the client to the node that leads the key's slot.
type MovedError struct {
	Slot int
	Addr string // host:port as clients should dial it
}

func (e *MovedError) Error() string { return fmt.Sprintf("slot %d moved to %s", e.Slot, e.Addr) }
