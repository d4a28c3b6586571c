package embed

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/fsm"
	"github.com/streamraft/streamraft/resp"
)

// backend adapts a *cluster.Node to resp.Backend: same calls, with the
// cluster's errors turned into the ones resp knows how to word.
type backend struct{ node *cluster.Node }

var _ resp.Backend = backend{}

func (b backend) Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error) {
	r, err := b.node.Write(ctx, key, req)
	return r, keyErr(err, key)
}

func (b backend) Submit(ctx context.Context, key []byte, req fsm.Request) func() (fsm.Reply, error) {
	wait := b.node.Submit(ctx, key, req)
	return func() (fsm.Reply, error) {
		r, err := wait()
		return r, keyErr(err, key)
	}
}

func (b backend) Read(ctx context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	r, err := b.node.Read(ctx, key, fn)
	return r, keyErr(err, key)
}

func (b backend) Watch(key []byte, keys []string) (<-chan struct{}, func()) {
	return b.node.Watch(key, keys)
}

func (b backend) Shards() int { return b.node.Shards() }

func (b backend) ShardOfSlot(slot int) int { return b.node.ShardOfSlot(slot) }

func (b backend) WriteShard(ctx context.Context, shard int, req fsm.Request) (fsm.Reply, error) {
	r, err := b.node.WriteShard(ctx, shard, req)
	return r, backendErr(err, b.firstSlot(shard))
}

func (b backend) ReadShard(ctx context.Context, shard int, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	r, err := b.node.ReadShard(ctx, shard, fn)
	return r, backendErr(err, b.firstSlot(shard))
}

// keyErr is backendErr for a keyed command. The slot is hashed only when
// there is an error to map: on the write path every request would pay for it.
func keyErr(err error, key []byte) error {
	if err == nil {
		return nil
	}
	return backendErr(err, keySlot(key))
}

// backendErr maps cluster errors to resp's: another node leads the shard
// -> MOVED to it (slot is the command's); no leader yet -> TRYAGAIN; the
// cluster is not formed, or this node is shutting down -> CLUSTERDOWN; a
// write whose outcome is unknown -> UNCERTAIN (checked first: every other
// answer means "not applied"). Other errors (ctx ends) pass through.
func backendErr(err error, slot int) error {
	var nl *cluster.NotLeaderError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nl):
		return &resp.MovedError{Slot: slot, Addr: nl.Addr}
	case errors.Is(err, cluster.ErrUncertain):
		return resp.ErrUncertain
	case errors.Is(err, cluster.ErrNoLeader):
		return resp.ErrTryAgain
	case errors.Is(err, cluster.ErrShutdown), errors.Is(err, cluster.ErrNotLeader), errors.Is(err, cluster.ErrNotFormed):
		return resp.ErrClusterDown
	}
	return err
}

func (b backend) ReadLocal(ctx context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	r, err := b.node.ReadLocal(ctx, key, fn)
	return r, keyErr(err, key)
}

// Topology is the node's view of the cluster in resp's terms.
func (b backend) Topology() resp.Topology {
	v := b.node.View()
	t := resp.Topology{MyID: v.MyID, Epoch: v.Epoch}
	for _, n := range v.Nodes {
		t.Nodes = append(t.Nodes, resp.TopologyNode{ID: n.ID, Addr: n.RESPAddr, BusPort: portOf(n.RaftAddr), Up: n.Up})
	}
	for _, s := range v.Shards {
		t.Shards = append(t.Shards, resp.TopologyShard{Lo: s.Lo, Hi: s.Hi, Leader: s.Leader, Followers: s.Followers})
	}
	return t
}

// Forget drains node id out of the cluster (CLUSTER FORGET).
func (b backend) Forget(ctx context.Context, id string) error {
	return backendErr(b.node.Forget(ctx, id), 0)
}

// keySlot is key's hash slot; keyless commands (nil) use shard 0's slot 0.
func keySlot(key []byte) int {
	if key == nil {
		return 0
	}
	return fsm.KeySlot(key)
}

// firstSlot is the lowest slot of shard, what a redirect of a keyless
// command names.
func (b backend) firstSlot(shard int) int {
	lo, _ := b.node.SlotRange(shard)
	return lo
}

// portOf is addr's port, 0 if it has none.
func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// ShardDigest is the node's replica digest of shard (CLUSTER SHARDDIGEST).
func (b backend) ShardDigest(shard int) (uint64, string, error) { return b.node.ShardDigest(shard) }
