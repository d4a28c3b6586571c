package cluster

import (
	"context"
	"maps"
	"slices"

	"github.com/hashicorp/raft"
)

// View is the cluster as this node sees it now, for CLUSTER SLOTS, SHARDS,
// NODES and INFO: the registry with each node's liveness, and every
// shard's leader and followers. For the shards it holds a replica of, the
// node uses its own Raft state (fresher); for the others, what their
// leaders last reported to the meta group.
type View struct {
	MyID   string
	Epoch  uint64
	Nodes  []ViewNode
	Shards []ViewShard
}

// ViewNode is one registered node.
type ViewNode struct {
	ID       string
	RESPAddr string
	RaftAddr string
	Up       bool
	Draining bool
}

// ViewShard is one shard.
type ViewShard struct {
	Lo, Hi    int
	Leader    string // "" while none is known
	Followers []string
	// Preferred is the leader the placement wants (leaderships are handed
	// to it when it is up).
	Preferred string
}

// View returns the current view; empty before the cluster is formed.
func (n *Node) View() View {
	st := n.meta.state()
	v := View{MyID: n.id, Epoch: st.Epoch}
	if !st.Initialized() {
		return v
	}
	up := map[string]bool{}
	for _, m := range n.Members() {
		up[m.ID] = m.Alive
	}
	gossip := n.members.Load() != nil
	for _, nd := range st.Nodes {
		alive := nd.ID == n.id || !gossip || up[nd.ID]
		v.Nodes = append(v.Nodes, ViewNode{ID: nd.ID, RESPAddr: nd.RESPAddr, RaftAddr: nd.RaftAddr, Up: alive, Draining: nd.Draining})
	}
	for i, g := range st.Groups {
		r := st.Layout.Ranges[i]
		vs := ViewShard{Lo: r[0], Hi: r[1], Leader: g.Leader}
		if len(g.Replicas) > 0 {
			vs.Preferred = g.Replicas[0]
		}
		voters := g.Voters
		if sh := n.local(i); sh != nil {
			vs.Leader = sh.LeaderID()
			if ids := voterIDs(sh.Servers()); len(ids) > 0 {
				voters = ids
			}
		}
		if len(voters) == 0 {
			voters = slices.Sorted(slices.Values(g.Replicas))
		}
		for _, id := range voters {
			if id != vs.Leader {
				vs.Followers = append(vs.Followers, id)
			}
		}
		v.Shards = append(v.Shards, vs)
	}
	return v
}

// startMembership starts gossip and joins the seeds in the background,
// retrying until one answers; the controller bootstraps or waits to be
// added once the join succeeded.
func (n *Node) startMembership() error {
	logger := n.logger.With("part", "membership")
	ctx, cancel := context.WithCancel(context.Background())
	ms, err := StartMembership(ctx, MembershipConfig{
		NodeID: n.id, BindAddr: n.cfg.GossipAddr, AdvertiseAddr: n.cfg.GossipAdvertise,
		RESPAddr: n.cfg.RESPAddr, RaftAddr: n.cfg.RaftAdvertise, HTTPAddr: n.cfg.HTTPAddr, MetaAddr: n.meta.addr(),
		ClusterID:     n.clusterID(),
		WrapTransport: n.cfg.GossipTransport, Tune: n.cfg.TuneGossip,
		OnEvent: func(ev MemberEvent) {
			logger.Info("member "+ev.Kind.String(), "member", ev.Member.ID, "gossip_addr", ev.Member.GossipAddr,
				"resp_addr", ev.Member.RESPAddr, "raft_addr", ev.Member.RaftAddr)
			n.wake()
		},
	}, logger)
	if err != nil {
		cancel()
		return err
	}
	n.members.Store(ms)
	logger.Info("gossip started", "gossip_addr", ms.GossipAddr(), "join", n.cfg.Join)
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		defer cancel()
		if err := ms.Join(ctx, n.cfg.Join); err != nil {
			if ctx.Err() == nil {
				logger.Error("join", "err", err)
			}
			return
		}
		n.ctl.joined.Store(true)
		n.wake()
	}()
	go func() {
		defer n.wg.Done()
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return nil
}

// NodeStatus is the node's state as /status shows it.
type NodeStatus struct {
	NodeID string `json:"node_id"`
	// ClusterID is the cluster this node belongs to ("" before it joined
	// one).
	ClusterID string `json:"cluster_id"`
	// Refused counts the connections to this node's Raft port that were
	// refused: from another cluster, or for a replica this node no longer
	// holds. ForeignMembers lists the gossip members of other clusters
	// this node has seen (and ignores), with their cluster IDs.
	Refused RefusedCounts `json:"refused"`
	// RebuiltReplicas counts the damaged replicas this node moved aside
	// (under <data-dir>/damaged/) and replaced by empty ones since it
	// started.
	RebuiltReplicas uint64            `json:"rebuilt_replicas"`
	ForeignMembers  map[string]string `json:"foreign_members,omitempty"`
	// Ready: the cluster is formed and every shard has a leader.
	Ready bool `json:"ready"`
	// Leader: this node leads every shard (a one-node cluster).
	Leader     bool   `json:"leader"`
	Formed     bool   `json:"formed"`
	MetaLeader string `json:"meta_leader"`
	// MetaVoters and MetaNonvoters are the meta group's members as this
	// node's replica knows them.
	MetaVoters    []string `json:"meta_voters"`
	MetaNonvoters []string `json:"meta_nonvoters,omitempty"`
	Epoch         uint64   `json:"epoch"`
	// Shards are the replicas this node holds.
	Shards []ShardStatus `json:"shards"`
	// Nodes is the cluster's registry with each node's shard counts.
	Nodes []NodeSummary `json:"nodes,omitempty"`
}

// NodeSummary is one registered node in /status.
type NodeSummary struct {
	NodeInfo
	Up       bool `json:"up"`
	Replicas int  `json:"replicas"` // shards placed on it
	Leads    int  `json:"leads"`    // shards it leads, as reported
}

// Status returns the node's, its replicas' and the cluster's state.
func (n *Node) Status() NodeStatus {
	st := n.meta.state()
	_, metaLeader := n.meta.r.LeaderWithID()
	ns := NodeStatus{NodeID: n.id, ClusterID: n.clusterID(), Refused: n.mux.Refused(), RebuiltReplicas: n.rebuilt.Load(),
		Ready: n.Ready(), Formed: st.Initialized(), MetaLeader: string(metaLeader), Epoch: st.Epoch}
	for _, srv := range n.meta.servers() {
		if srv.Suffrage == raft.Voter {
			ns.MetaVoters = append(ns.MetaVoters, string(srv.ID))
		} else {
			ns.MetaNonvoters = append(ns.MetaNonvoters, string(srv.ID))
		}
	}
	n.foreignMu.Lock()
	if len(n.foreignSeen) > 0 {
		ns.ForeignMembers = maps.Clone(n.foreignSeen)
	}
	n.foreignMu.Unlock()
	ns.Leader = ns.Formed
	for i := range n.Shards() {
		sh := n.local(i)
		if sh == nil {
			ns.Leader = false
			continue
		}
		ss := sh.Status()
		ss.SlotLo, ss.SlotHi = n.SlotRange(i)
		ns.Leader = ns.Leader && ss.Leader
		ns.Shards = append(ns.Shards, ss)
	}
	v := n.View()
	for _, nd := range st.Nodes {
		sum := NodeSummary{NodeInfo: nd}
		for _, vn := range v.Nodes {
			if vn.ID == nd.ID {
				sum.Up = vn.Up
			}
		}
		for i, g := range st.Groups {
			if slices.Contains(g.Replicas, nd.ID) {
				sum.Replicas++
			}
			if v.Shards[i].Leader == nd.ID {
				sum.Leads++
			}
		}
		ns.Nodes = append(ns.Nodes, sum)
	}
	return ns
}
