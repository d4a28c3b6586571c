package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// leadMeta is what the meta leader does each round, one change at most per
// step: register nodes, keep the meta group's membership, rebalance the
// placement, drain dead nodes and remove drained ones.
func (n *Node) leadMeta(st *MetaState) {
	if n.registerNodes(st) || n.metaMembers(st) {
		return
	}
	n.rebalance(st)
	n.retireNodes(st)
}

// registerNodes adds the live nodes gossip knows to the registry, and
// updates changed addresses. It reports whether it proposed a change.
func (n *Node) registerNodes(st *MetaState) bool {
	var changed []NodeInfo
	for _, p := range n.peers() {
		if _, gone := slices.BinarySearch(st.Removed, p.ID); gone {
			continue
		}
		cur, ok := st.Node(p.ID)
		if ok && cur.RESPAddr == p.RESPAddr && cur.RaftAddr == p.RaftAddr && cur.HTTPAddr == p.HTTPAddr {
			continue
		}
		changed = append(changed, p)
	}
	if len(changed) == 0 {
		return false
	}
	if err := n.meta.apply(metaCmd{Op: metaOpAddNode, Nodes: changed}); err != nil {
		n.logger.Warn("register nodes", "err", err)
		return true
	}
	for _, p := range changed {
		n.logger.Info("node registered", "node", p.ID, "resp_addr", p.RESPAddr, "raft_addr", p.RaftAddr)
	}
	return true
}

// metaMembers keeps every registered node in the meta group: each joins
// as a non-voter under the meta replica address it gossips, and the first
// live, non-draining ones are promoted to voters (up to maxMetaVoters)
// once caught up; a node that gossips another meta replica address than
// the group lists (its meta directory was wiped or rebuilt) is demoted and
// re-added under the new one; nodes gone from the registry are removed.
// It reports whether it made a change.
func (n *Node) metaMembers(st *MetaState) bool {
	servers := n.meta.servers()
	voters := 0
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	if voters > 1 {
		n.meta.restoreTimeouts()
	}
	addrs := n.metaAddrs()
	last := n.meta.r.LastIndex()
	for _, nd := range st.Nodes {
		addr := addrs[nd.ID]
		cur, in := serverOf(servers, nd.ID)
		switch {
		case !in:
			if addr != "" {
				return n.addNonvoter(metaGroupName, nd.ID, addr, last, n.meta.addNonvoter)
			}
		case addr != "" && string(cur.Address) != addr:
			if cur.Suffrage == raft.Voter {
				return n.metaChange("demote rebuilt meta voter", nd.ID, n.meta.r.DemoteVoter(raft.ServerID(nd.ID), 0, configChangeTimeout))
			}
			return n.addNonvoter(metaGroupName, nd.ID, addr, last, n.meta.addNonvoter)
		case nd.Draining && cur.Suffrage == raft.Voter && voters > 1 && nd.ID != n.id:
			return n.metaChange("demote draining meta voter", nd.ID, n.meta.r.DemoteVoter(raft.ServerID(nd.ID), 0, configChangeTimeout))
		case cur.Suffrage != raft.Voter && voters < maxMetaVoters && !nd.Draining && n.alive(nd.ID):
			if n.caughtUp(metaGroupName, nd.ID, string(cur.Address), last, rpcRequest{Op: rpcShardStatus, MetaGroup: true}, st) {
				delete(n.ctl.added, addedKey(metaGroupName, nd.ID))
				return n.metaChange("promote caught-up meta non-voter", nd.ID, n.meta.r.AddVoter(raft.ServerID(nd.ID), cur.Address, 0, configChangeTimeout))
			}
		}
	}
	for _, s := range servers {
		if _, ok := st.Node(string(s.ID)); ok {
			continue
		}
		if string(s.ID) == n.id {
			return n.metaChange("hand meta leadership over", n.id, n.meta.r.LeadershipTransfer())
		}
		return n.metaChange("remove from meta group", string(s.ID), n.meta.r.RemoveServer(s.ID, 0, configChangeTimeout))
	}
	return false
}

// metaAddrs maps each node of this cluster that gossip sees alive (and
// this node) to the meta replica address it gossips.
func (n *Node) metaAddrs() map[string]string {
	out := map[string]string{n.id: n.meta.addr()}
	for _, m := range n.Members() {
		if m.ID != n.id && m.Alive && m.MetaAddr != "" && !n.foreign(m) {
			out[m.ID] = m.MetaAddr
		}
	}
	return out
}

func (n *Node) metaChange(what, id string, f raft.Future) bool {
	if err := f.Error(); err != nil {
		n.logger.Warn(what, "node", id, "err", err)
	} else {
		n.logger.Info(what, "node", id)
	}
	return true
}

// rebalance proposes a new placement when Rebalance finds a better one.
// Only shards whose reported voters match their placement may change their
// replica set, movesPerRound at a time.
func (n *Node) rebalance(st *MetaState) {
	settled := func(sh int) bool {
		g := st.Groups[sh]
		return g.Formed && sameSet(g.Voters, g.Replicas)
	}
	p := Rebalance(st, settled, movesPerRound)
	same := true
	for i, g := range st.Groups {
		same = same && slices.Equal(g.Replicas, p[i])
	}
	if same {
		return
	}
	if err := n.meta.apply(metaCmd{Op: metaOpPlace, Placement: p}); err != nil {
		n.logger.Warn("rebalance", "err", err)
		return
	}
	n.logger.Info("placement changed", "epoch", n.meta.state().Epoch)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// retireNodes drains nodes that gossip has not seen for DeadNodeTimeout,
// and removes draining nodes that hold no replica any more.
func (n *Node) retireNodes(st *MetaState) {
	now := time.Now()
	for _, nd := range st.Nodes {
		if n.alive(nd.ID) {
			delete(n.ctl.deadSince, nd.ID)
		} else if _, ok := n.ctl.deadSince[nd.ID]; !ok {
			n.ctl.deadSince[nd.ID] = now
		}
		if dead, ok := n.ctl.deadSince[nd.ID]; ok && !nd.Draining && now.Sub(dead) > n.cfg.DeadNodeTimeout {
			n.logger.Warn("node dead too long; draining it", "node", nd.ID, "dead_for", now.Sub(dead).Round(time.Second))
			if err := n.meta.apply(metaCmd{Op: metaOpDrain, Node: nd.ID}); err != nil {
				n.logger.Warn("drain", "node", nd.ID, "err", err)
			}
			return
		}
		if nd.Draining && holdsNothing(st, nd.ID) {
			if nd.ID == n.id {
				n.metaChange("hand meta leadership over", n.id, n.meta.r.LeadershipTransfer())
				return
			}
			if err := n.meta.apply(metaCmd{Op: metaOpRemove, Node: nd.ID}); err != nil {
				n.logger.Warn("remove node", "node", nd.ID, "err", err)
			} else {
				n.logger.Info("node removed from the cluster", "node", nd.ID)
			}
			return
		}
	}
}

// holdsNothing reports whether node id is neither placed nor a voter of
// any shard.
func holdsNothing(st *MetaState, id string) bool {
	for _, g := range st.Groups {
		if slices.Contains(g.Replicas, id) || slices.Contains(g.Voters, id) {
			return false
		}
	}
	return true
}

// Forget drains node id: its replicas move to the other nodes, its leaderships are handed
// off, then it is removed from the cluster.
func (n *Node) Forget(ctx context.Context, id string) error {
	st := n.meta.state()
	if !st.Initialized() {
		return ErrNotFormed
	}
	nd, ok := st.Node(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, id)
	}
	others := 0
	for _, o := range st.Nodes {
		if o.ID != nd.ID && !o.Draining {
			others++
		}
	}
	if others == 0 {
		return fmt.Errorf("cluster: cannot drain %s: it is the last node holding replicas", nd.ID)
	}
	return n.proposeMeta(ctx, metaCmd{Op: metaOpDrain, Node: nd.ID})
}
