package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The controller is one goroutine per node that keeps the node's Raft
// groups in line with the cluster configuration (MetaState). It runs every
// reconcileEvery, and at once after a meta entry is applied or a shard's
// leadership changes. What it does depends on the roles the node holds:
//
//   - every node: bootstraps the cluster when it should (maybeBootstrap),
//     opens the replicas placed on it and closes the ones moved away
//     (placeShards);
//   - the leader of a shard: reports itself to the meta group, adds and
//     removes voters until the group matches its placement, and hands the
//     leadership to the placement's preferred leader (leadShard);
//   - the meta leader: registers the nodes gossip discovers, keeps every
//     node in the meta group (up to 5 voters), rebalances the placement,
//     drains nodes dead for longer than DeadNodeTimeout and removes drained
//     ones (leadMeta).
//
// Every change is one Raft configuration change or one meta entry at a
// time, so a round is short and the next one sees its effect.

const (
	reconcileEvery = 200 * time.Millisecond
	// transferBackoff spaces leadership transfers of one shard, so a
	// target that cannot take over is not asked again at once.
	transferBackoff = 5 * time.Second
	// movesPerRound bounds how many shards change their replica set per
	// placement change: moving a replica costs a snapshot transfer.
	movesPerRound = 2
)

// controller is the controller's memory between rounds; only the
// controller goroutine touches it (joined is set by the join goroutine).
type controller struct {
	joined       atomic.Bool // the initial --join succeeded
	bootstrapped bool
	formedSet    bool
	retired      bool
	layoutErr    string
	added        map[string]uint64 // "shard/node" -> leader's last index when the voter was added
	transferAt   map[int]time.Time // last leadership transfer attempt per shard
	deadSince    map[string]time.Time
}

func newController() controller {
	return controller{added: map[string]uint64{}, transferAt: map[int]time.Time{}, deadSince: map[string]time.Time{}}
}

func (n *Node) runController() {
	t := time.NewTicker(reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.kick:
		case <-t.C:
		}
		n.reconcile()
	}
}

func (n *Node) reconcile() {
	st := n.meta.state()
	if !st.Initialized() {
		if n.meta.isLeader() {
			n.initCluster()
		} else {
			n.maybeBootstrap()
		}
		return
	}
	if slices.Contains(st.Removed, n.id) {
		n.retire()
		return
	}
	if !n.adoptLayout(st) {
		return
	}
	n.setFormed()
	n.placeShards(st)
	for i := range st.Groups {
		if sh := n.local(i); sh != nil && sh.Ready() {
			n.leadShard(i, sh, st)
		}
	}
	if n.meta.isLeader() {
		n.leadMeta(st)
	}
}

// self is this node's registry entry.
func (n *Node) self() NodeInfo {
	return NodeInfo{ID: n.id, RESPAddr: n.cfg.RESPAddr, RaftAddr: n.cfg.RaftAdvertise, HTTPAddr: n.cfg.HTTPAddr}
}

// peers is this node and every live member gossip knows, sorted by ID.
func (n *Node) peers() []NodeInfo {
	out := []NodeInfo{n.self()}
	for _, m := range n.Members() {
		if m.ID != n.id && m.Alive && m.RaftAddr != "" {
			out = append(out, NodeInfo{ID: m.ID, RESPAddr: m.RESPAddr, RaftAddr: m.RaftAddr, HTTPAddr: m.HTTPAddr})
		}
	}
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// alive reports whether gossip sees node id up (always true without
// gossip: a lone node).
func (n *Node) alive(id string) bool {
	if id == n.id || n.members.Load() == nil {
		return true
	}
	for _, m := range n.Members() {
		if m.ID == id {
			return m.Alive
		}
	}
	return false
}

// maybeBootstrap forms the cluster, exactly once: a node that ever held
// the meta group's state never does; with --join it waits until the
// initial join succeeded, then bootstraps only if no member it sees
// belongs to a formed cluster, at least BootstrapExpect nodes are up, and
// it has the lowest ID among them. It bootstraps the meta group only; the
// meta leader then writes the configuration (initCluster) and each shard
// is bootstrapped by its first replica (placeShards).
func (n *Node) maybeBootstrap() {
	if n.ctl.bootstrapped || n.meta.hasState() {
		return
	}
	peers := []NodeInfo{n.self()}
	if n.members.Load() != nil {
		if !n.ctl.joined.Load() {
			return
		}
		for _, m := range n.Members() {
			if m.Formed && m.ID != n.id {
				return // a cluster exists: wait for its meta leader to add us
			}
		}
		peers = n.peers()
	}
	if len(peers) < n.cfg.BootstrapExpect || peers[0].ID != n.id {
		return
	}
	servers := make([]raft.Server, len(peers))
	for i, p := range peers {
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)}
		if i >= maxMetaVoters {
			servers[i].Suffrage = raft.Nonvoter
		}
	}
	if err := n.meta.bootstrap(servers); err != nil {
		n.logger.Error("bootstrap the cluster", "err", err)
		return
	}
	n.ctl.bootstrapped = true
	n.logger.Info("bootstrapped the cluster", "nodes", len(peers))
}

// initCluster writes the first configuration: this node's layout
// (cluster.json, or --shards), replicas, and the nodes it sees.
func (n *Node) initCluster() {
	l, err := loadLayout(n.cfg.DataDir, n.cfg.Shards)
	if err != nil {
		n.logOnce("layout", err)
		return
	}
	nodes := n.peers()
	if err := n.meta.apply(metaCmd{Op: metaOpInit, Layout: &l, Replicas: n.cfg.Replicas, Nodes: nodes}); err != nil {
		n.logger.Warn("initialize the cluster configuration", "err", err)
		return
	}
	n.logger.Info("cluster configuration initialized", "shards", l.Shards, "replicas", n.cfg.Replicas, "nodes", len(nodes))
}

// logOnce logs err at error level the first time it is seen in a row.
func (n *Node) logOnce(what string, err error) {
	if msg := what + ": " + err.Error(); msg != n.ctl.layoutErr {
		n.ctl.layoutErr = msg
		n.logger.Error(what, "err", err)
	}
}

// adoptLayout takes the cluster's slot layout, writing cluster.json the
// first time. Every node must run with the cluster's --shards: a node
// started with another count refuses to serve (and says why).
func (n *Node) adoptLayout(st *MetaState) bool {
	if l := n.layout.Load(); l != nil {
		if l.Shards != st.Layout.Shards {
			n.logOnce("layout", fmt.Errorf("this node's data dir holds %d shards but the cluster has %d", l.Shards, st.Layout.Shards))
			return false
		}
		return true
	}
	if st.Layout.Shards != n.cfg.Shards {
		n.logOnce("layout", fmt.Errorf("the cluster has %d shards but --shards is %d: start this node with --shards %d", st.Layout.Shards, n.cfg.Shards, st.Layout.Shards))
		return false
	}
	l, err := loadLayout(n.cfg.DataDir, n.cfg.Shards)
	if err != nil {
		n.logOnce("layout", err)
		return false
	}
	n.setLayout(l)
	return true
}

// setFormed gossips, once, that this node holds the configuration.
func (n *Node) setFormed() {
	ms := n.members.Load()
	if ms == nil || n.ctl.formedSet {
		return
	}
	if err := ms.SetFormed(); err != nil {
		n.logger.Warn("gossip formed", "err", err)
		return
	}
	n.ctl.formedSet = true
}

// placeShards opens the replicas the placement gives this node, forming a
// group when this node is its first replica and nobody formed it yet, and
// closes (and deletes) replicas that were moved away once their group no
// longer counts this node.
func (n *Node) placeShards(st *MetaState) {
	for i, g := range st.Groups {
		sh := n.local(i)
		want := slices.Contains(g.Replicas, n.id)
		switch {
		case want && sh == nil:
			if err := n.openShard(i); err != nil {
				n.logger.Error("open replica", "shard", i, "err", err)
				continue
			}
			n.formShard(i, st)
		case want && !g.Formed:
			n.formShard(i, st)
		case !want && sh != nil && g.Leader != "" && g.Leader != n.id && !slices.Contains(g.Voters, n.id) && !sh.Leader():
			n.logger.Info("replica moved away; deleting it", "shard", i, "leader", g.Leader)
			if err := n.closeShard(i, true); err != nil {
				n.logger.Warn("close replica", "shard", i, "err", err)
			}
		}
	}
}

// formShard bootstraps shard i's group with its placed replicas as voters
// when this node comes first in the placement, the configuration does not
// say it was formed, and the directory has no Raft state.
func (n *Node) formShard(i int, st *MetaState) {
	g := st.Groups[i]
	sh := n.local(i)
	if sh == nil || g.Formed || len(g.Replicas) == 0 || g.Replicas[0] != n.id || sh.HasState() {
		return
	}
	servers := make([]raft.Server, 0, len(g.Replicas))
	for _, id := range g.Replicas {
		info, ok := st.Node(id)
		if !ok {
			return
		}
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(info.RaftAddr)})
	}
	if err := sh.Bootstrap(servers); err != nil {
		n.logger.Error("form shard", "shard", i, "err", err)
	}
}

// leadShard is what the leader of shard i does each round.
func (n *Node) leadShard(i int, sh *Shard, st *MetaState) {
	g := st.Groups[i]
	servers := sh.Servers()
	voters := voterIDs(servers)
	if len(voters) > 1 {
		sh.restoreTimeouts()
	}
	if term := sh.Term(); !g.Formed || g.Leader != n.id || g.Term != term || !slices.Equal(g.Voters, voters) {
		ctx, cancel := context.WithTimeout(context.Background(), metaApplyTimeout)
		err := n.proposeMeta(ctx, metaCmd{Op: metaOpLeader, Shard: i, Node: n.id, Term: term, Voters: voters})
		cancel()
		if err != nil {
			n.logger.Debug("report shard leadership", "shard", i, "err", err)
		}
	}
	if n.moveReplicas(i, sh, st, servers) {
		return
	}
	n.preferLeader(i, sh, g, servers)
}

func addedKey(shard int, id string) string { return strconv.Itoa(shard) + "/" + id }

func suffrage(servers []raft.Server, id string) (raft.ServerSuffrage, bool) {
	for _, s := range servers {
		if string(s.ID) == id {
			return s.Suffrage, true
		}
	}
	return 0, false
}

// moveReplicas makes one configuration change toward the placement: add a
// missing voter; or, once every placed voter is in and the ones added have
// caught up, remove one that is not placed (handing the leadership away
// first if it is this node). It reports whether the group is still moving.
func (n *Node) moveReplicas(i int, sh *Shard, st *MetaState, servers []raft.Server) bool {
	want := st.Groups[i].Replicas
	for _, id := range want {
		if s, ok := suffrage(servers, id); ok && s == raft.Voter {
			continue
		}
		info, ok := st.Node(id)
		if !ok {
			continue
		}
		if err := sh.AddVoter(id, info.RaftAddr); err != nil {
			n.logger.Warn("add voter", "shard", i, "node", id, "err", err)
			return true
		}
		n.ctl.added[addedKey(i, id)] = sh.LastIndex()
		n.logger.Info("added voter", "shard", i, "node", id)
		return true
	}
	var extra []string
	for _, s := range servers {
		if !slices.Contains(want, string(s.ID)) {
			extra = append(extra, string(s.ID))
		}
	}
	if len(extra) == 0 {
		return false
	}
	for _, id := range want {
		idx, ok := n.ctl.added[addedKey(i, id)]
		if !ok {
			continue
		}
		if !n.caughtUp(i, id, idx, st) {
			return true
		}
		delete(n.ctl.added, addedKey(i, id))
	}
	id := extra[0]
	if id == n.id {
		n.transfer(i, sh, want[0], st)
		return true
	}
	if err := sh.RemoveServer(id); err != nil {
		n.logger.Warn("remove voter", "shard", i, "node", id, "err", err)
		return true
	}
	n.logger.Info("removed voter", "shard", i, "node", id)
	return true
}

// caughtUp asks node id whether its replica of shard i applied index idx.
func (n *Node) caughtUp(i int, id string, idx uint64, st *MetaState) bool {
	info, ok := st.Node(id)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	resp, err := n.rpc.call(ctx, info.RaftAddr, rpcRequest{Op: rpcShardStatus, Shard: i})
	if err != nil {
		n.logger.Debug("catch-up check", "shard", i, "node", id, "err", err)
		return false
	}
	return resp.Open && resp.Applied >= idx
}

// preferLeader hands the leadership of shard i to its preferred leader
// (first in the placement) when that node is an up voter, so leaderships
// stay spread as the placement spreads them.
func (n *Node) preferLeader(i int, sh *Shard, g GroupInfo, servers []raft.Server) {
	if len(g.Replicas) == 0 || g.Replicas[0] == n.id {
		return
	}
	pref := g.Replicas[0]
	if s, ok := suffrage(servers, pref); !ok || s != raft.Voter || !n.alive(pref) {
		return
	}
	n.transfer(i, sh, pref, n.meta.state())
}

// transfer starts a leadership transfer of shard i to id in the
// background, at most once per transferBackoff.
func (n *Node) transfer(i int, sh *Shard, id string, st *MetaState) {
	if time.Since(n.ctl.transferAt[i]) < transferBackoff {
		return
	}
	info, ok := st.Node(id)
	if !ok {
		return
	}
	n.ctl.transferAt[i] = time.Now()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := sh.TransferLeadership(id, info.RaftAddr); err != nil {
			n.logger.Info("leadership transfer failed", "shard", i, "to", id, "err", err)
			return
		}
		n.logger.Info("handed leadership over", "shard", i, "to", id)
	}()
}

// proposeMeta proposes cmd to the meta group: here if this node leads it,
// else to its leader over the RPC port.
func (n *Node) proposeMeta(ctx context.Context, cmd metaCmd) error {
	if n.meta.isLeader() {
		return n.meta.apply(cmd)
	}
	addr, _ := n.meta.r.LeaderWithID()
	if addr == "" {
		return fmt.Errorf("meta group: %w", ErrNoLeader)
	}
	resp, err := n.rpc.call(ctx, string(addr), rpcRequest{Op: rpcMetaApply, Meta: &cmd})
	if err != nil {
		return err
	}
	if resp.NotLeader {
		return fmt.Errorf("meta group: %s: %w", addr, ErrNotLeader)
	}
	if resp.Err != "" {
		return errors.New(resp.Err)
	}
	return nil
}

// handleRPC answers the other nodes.
func (n *Node) handleRPC(req rpcRequest) rpcResponse {
	switch req.Op {
	case rpcMetaApply:
		if req.Meta == nil {
			return rpcResponse{Err: "meta_apply: no command"}
		}
		if !n.meta.isLeader() {
			return rpcResponse{NotLeader: true}
		}
		if err := n.meta.apply(*req.Meta); err != nil {
			return rpcResponse{Err: err.Error(), NotLeader: errors.Is(err, ErrNotLeader)}
		}
		return rpcResponse{}
	case rpcShardStatus:
		sh := n.local(req.Shard)
		if sh == nil {
			return rpcResponse{}
		}
		return rpcResponse{Open: true, Applied: sh.RaftApplied()}
	}
	return rpcResponse{Err: "unknown operation " + strconv.Quote(req.Op)}
}

// retire runs once this node was removed from the cluster: it closes its
// replicas and leaves the gossip pool; the process stays up, answering
// CLUSTERDOWN, until it is stopped.
func (n *Node) retire() {
	if n.ctl.retired {
		return
	}
	n.ctl.retired = true
	n.logger.Warn("this node was removed from the cluster; closing its replicas")
	for i := range n.Shards() {
		if err := n.closeShard(i, false); err != nil {
			n.logger.Warn("close replica", "shard", i, "err", err)
		}
	}
	if ms := n.members.Load(); ms != nil {
		if err := ms.Leave(2 * time.Second); err != nil {
			n.logger.Warn("leave the gossip pool", "err", err)
		}
	}
}
