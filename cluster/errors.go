// Package cluster runs streamraft's Raft groups: shards that replicate the
// fsm (the write path with group commit, read-index reads, the wait
// registry that wakes blocked readers), the meta group that replicates the
// cluster configuration, membership, and the controller that forms the
// cluster and moves replicas and leaderships. See DESIGN.md.
package cluster

import "errors"

// Errors the resp package turns into Redis replies.
var (
	// ErrNotLeader: this node does not lead the shard (a *NotLeaderError names the leader: -MOVED).
	ErrNotLeader = errors.New("cluster: not the shard leader")
	// ErrNoLeader: the shard has no leader right now (-TRYAGAIN).
	ErrNoLeader = errors.New("cluster: shard has no leader")
	// ErrUnknownNode: no node of the cluster has that ID.
	ErrUnknownNode = errors.New("cluster: unknown node")
	// ErrShutdown: the node is stopping.
	ErrShutdown = errors.New("cluster: shutting down")
	// ErrUncertain: a write reached the log but its outcome could not be
	// learned (the leader changed and the log did not settle in time, or
	// the node stopped): it may or may not have been applied. Unlike a
	// redirect, which always means "not applied", clients must not simply
	// retry it.
	ErrUncertain = errors.New("cluster: the write may or may not have been applied")
)
