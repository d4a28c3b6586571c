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
}

// Errors a Backend returns (possibly wrapped) to have the client redirected
// or told to retry. Any other error becomes "-ERR <text>".
var (
	// ErrTryAgain: the shard is electing a leader; the client should retry.
	ErrTryAgain = errors.New("shard has no leader")
	// ErrClusterDown: the shard cannot serve (no quorum, shutting down).
	ErrClusterDown = errors.New("cluster is down")
)

// MovedError sends the client to the node that leads the key's slot.
type MovedError struct {
	Slot int
	Addr string // host:port as clients should dial it
}

func (e *MovedError) Error() string { return fmt.Sprintf("slot %d moved to %s", e.Slot, e.Addr) }
