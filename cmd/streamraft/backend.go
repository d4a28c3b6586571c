package main

import (
	"context"
	"errors"

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
	return r, backendErr(err)
}

func (b backend) Read(ctx context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	r, err := b.node.Read(ctx, key, fn)
	return r, backendErr(err)
}

func (b backend) Watch(key []byte, keys []string) (<-chan struct{}, func()) {
	return b.node.Watch(key, keys)
}

func (b backend) Shards() int { return b.node.Shards() }

func (b backend) ShardOfSlot(slot int) int { return b.node.ShardOfSlot(slot) }

func (b backend) WriteShard(ctx context.Context, shard int, req fsm.Request) (fsm.Reply, error) {
	r, err := b.node.WriteShard(ctx, shard, req)
	return r, backendErr(err)
}

func (b backend) ReadShard(ctx context.Context, shard int, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	r, err := b.node.ReadShard(ctx, shard, fn)
	return r, backendErr(err)
}

// backendErr maps cluster errors to resp's: no leader yet -> TRYAGAIN;
// shutting down or not the leader -> CLUSTERDOWN (MOVED comes with the
// multi-node cluster). Other errors (ctx ends) pass through.
func backendErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cluster.ErrNoLeader):
		return resp.ErrTryAgain
	case errors.Is(err, cluster.ErrShutdown), errors.Is(err, cluster.ErrNotLeader):
		return resp.ErrClusterDown
	}
	return err
}

func (b backend) ReadLocal(ctx context.Context, key []byte, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	r, err := b.node.Read(ctx, key, fn)
	return r, backendErr(err)
}

// Topology: this node leads every shard (the one-node cluster).
func (b backend) Topology() resp.Topology {
	t := resp.Topology{MyID: b.node.ID(), Nodes: []resp.TopologyNode{{ID: b.node.ID(), Up: true}}}
	for i := range b.node.Shards() {
		lo, hi := b.node.SlotRange(i)
		t.Shards = append(t.Shards, resp.TopologyShard{Lo: lo, Hi: hi, Leader: b.node.ID()})
	}
	return t
}
