package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	formedFor    string // the cluster ID last gossiped as formed
	retired      bool
	layoutErr    string
	// added: "shard/node" (or "meta/node") -> the leader's last log index
	// when it added that non-voter: it is promoted once it applied that.
	added       map[string]uint64
	transferAt  map[int]time.Time // last leadership transfer attempt per shard
	announcedAt map[int]time.Time // last announcement of this node's replica per shard
	deadSince   map[string]time.Time
}

func newController() controller {
	return controller{added: map[string]uint64{}, transferAt: map[int]time.Time{},
		announcedAt: map[int]time.Time{}, deadSince: map[string]time.Time{}}
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
	if !n.adoptClusterID(st) || !n.adoptLayout(st) {
		return
	}
	n.setFormed()
	n.placeShards(st)
	n.announceReplicas(st)
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

// peers is this node and every live member of its cluster gossip knows
// (members of another cluster are left out), sorted by ID.
func (n *Node) peers() []NodeInfo {
	out := []NodeInfo{n.self()}
	for _, m := range n.Members() {
		if m.ID != n.id && m.Alive && m.RaftAddr != "" && !n.foreign(m) {
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
// the meta group's state, or whose data dir names a cluster, never does;
// with --join it waits until the initial join succeeded, then bootstraps
// only if no member it sees belongs to a formed cluster, at least
// BootstrapExpect nodes are up, and it has the lowest ID among them. It
// bootstraps the meta group with itself as its only voter; the meta
// leader then writes the configuration (initCluster) and adds the others
// (non-voters first, promoted once caught up), and each shard is
// bootstrapped by its first replica (placeShards).
func (n *Node) maybeBootstrap() {
	if n.ctl.bootstrapped || n.meta.hasState() {
		return
	}
	if id := n.clusterID(); id != "" {
		n.logOnce("bootstrap", fmt.Errorf("this data dir belongs to cluster %s but holds no meta group state: waiting to be added back by its meta leader (a node never bootstraps a second cluster)", id))
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
	servers := []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.id), Address: raft.ServerAddress(n.meta.addr())}}
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
	if err := n.meta.apply(metaCmd{Op: metaOpInit, Layout: &l, Replicas: n.cfg.Replicas, Nodes: nodes, ClusterID: newClusterID()}); err != nil {
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

// setFormed gossips, once per cluster ID, that this node holds the
// configuration of its cluster.
func (n *Node) setFormed() {
	ms := n.members.Load()
	id := n.clusterID()
	if ms == nil || id == "" || n.ctl.formedFor == id {
		return
	}
	if err := ms.SetFormed(id); err != nil {
		n.logger.Warn("gossip formed", "err", err)
		return
	}
	n.ctl.formedFor = id
}

// adoptClusterID makes the configuration's cluster ID this node's: kept in
// node.json, sent in every connection header, gossiped. A configuration
// from before cluster IDs gets one from its meta leader. It reports
// whether the node may go on serving this configuration.
func (n *Node) adoptClusterID(st *MetaState) bool {
	cur := n.clusterID()
	switch {
	case st.ClusterID == "":
		if n.meta.isLeader() {
			id := cmp.Or(cur, newClusterID())
			if err := n.meta.apply(metaCmd{Op: metaOpClusterID, ClusterID: id}); err != nil {
				n.logger.Warn("name the cluster", "err", err)
			}
		}
		return true
	case cur == st.ClusterID:
		return true
	case cur != "":
		n.logOnce("cluster id", fmt.Errorf("the configuration this node received belongs to cluster %s, but its data dir to cluster %s", st.ClusterID, cur))
		return false
	}
	n.identMu.Lock()
	ident := n.ident
	ident.ClusterID = st.ClusterID
	err := saveNodeIdentity(n.cfg.DataDir, ident)
	if err == nil {
		n.ident = ident
	}
	n.identMu.Unlock()
	if err != nil {
		n.logOnce("cluster id", err)
		return false
	}
	n.mux.SetClusterID(st.ClusterID)
	n.logger.Info("joined cluster", "cluster_id", st.ClusterID)
	return true
}

// clusterID is the cluster this node belongs to, "" before it joined one.
func (n *Node) clusterID() string {
	n.identMu.Lock()
	defer n.identMu.Unlock()
	return n.ident.ClusterID
}

// foreign reports whether gossip member m belongs to another cluster than
// this node's (members that belong to none yet are not foreign). Foreign
// members are never registered, added or counted; the first sighting of
// each is logged and counted.
func (n *Node) foreign(m Member) bool {
	mine := n.clusterID()
	if m.ClusterID == "" || m.ClusterID == mine {
		return false
	}
	n.foreignMu.Lock()
	defer n.foreignMu.Unlock()
	if n.foreignSeen == nil {
		n.foreignSeen = map[string]string{}
	}
	if n.foreignSeen[m.ID] != m.ClusterID {
		n.foreignSeen[m.ID] = m.ClusterID
		n.logger.Warn("ignoring a gossip member of another cluster", "member", m.ID, "gossip_addr", m.GossipAddr,
			"their_cluster_id", m.ClusterID, "cluster_id", mine)
	}
	return true
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
				var dmg *DamageError
				if errors.As(err, &dmg) {
					n.failStart(err) // the only copy is damaged
				}
				n.logOnce(fmt.Sprintf("open replica of shard %d", i), err)
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

// formShard bootstraps shard i's group with this replica as its only
// voter when this node comes first in the placement, the configuration
// does not say it was formed, and the directory has no Raft state. The
// other placed replicas announce themselves and are added as non-voters,
// then promoted once caught up (moveReplicas), as every new voter is.
func (n *Node) formShard(i int, st *MetaState) {
	g := st.Groups[i]
	sh := n.local(i)
	if sh == nil || len(g.Replicas) == 0 || g.Replicas[0] != n.id || sh.HasState() {
		return
	}
	if g.Formed {
		// Formed, but this node was its only replica and its replica has no
		// state: the operator moved a damaged only copy away (damage.go).
		// Nobody else can rebuild it, so it starts again, empty.
		if !slices.Equal(g.Replicas, []string{n.id}) || !slices.Equal(g.Voters, []string{n.id}) {
			return
		}
		n.logger.Warn("this node held the only replica of the shard and it has no state: forming the shard again, empty", "shard", i)
	}
	servers := []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.id), Address: raft.ServerAddress(sh.Addr())}}
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

// moveReplicas makes one configuration change toward the placement. A
// placed replica joins as a non-voter under the address it announced (its
// replica ID), is promoted once it applied what the log held when it was
// added, and a replica whose node announced another address (its
// directory was wiped or rebuilt) is demoted and re-added under the new
// one: a replica that lost its state never votes as the one it replaced.
// Servers that are not placed are removed only once every placed replica
// is a voter (handing the leadership away first if it is this node). It
// reports whether the group is still moving.
func (n *Node) moveReplicas(i int, sh *Shard, st *MetaState, servers []raft.Server) bool {
	want := st.Groups[i].Replicas
	allIn := true
	for _, id := range want {
		if id == n.id {
			continue // the leader is a voter
		}
		addr, announced := n.announcement(i, id)
		cur, in := serverOf(servers, id)
		switch {
		case !in:
			allIn = false
			if announced {
				return n.addNonvoter(shardKey(i), id, addr, sh.LastIndex(), sh.AddNonvoter)
			}
		case announced && string(cur.Address) != addr:
			allIn = false
			if cur.Suffrage == raft.Voter {
				n.configChange(i, "demote rebuilt voter", id, sh.DemoteVoter(id))
				return true
			}
			return n.addNonvoter(shardKey(i), id, addr, sh.LastIndex(), sh.AddNonvoter)
		case cur.Suffrage != raft.Voter:
			allIn = false
			if n.caughtUp(shardKey(i), id, string(cur.Address), sh.LastIndex(), rpcRequest{Op: rpcShardStatus, Shard: i}, st) {
				n.configChange(i, "promote caught-up non-voter", id, sh.AddVoter(id, string(cur.Address)))
				delete(n.ctl.added, addedKey(shardKey(i), id))
				return true
			}
		}
	}
	if !allIn {
		return true
	}
	for _, s := range servers {
		id := string(s.ID)
		if slices.Contains(want, id) {
			continue
		}
		if id == n.id {
			n.transfer(i, sh, want[0])
			return true
		}
		n.configChange(i, "remove replica", id, sh.RemoveServer(id))
		return true
	}
	return false
}

func shardKey(i int) string { return "shard-" + strconv.Itoa(i) }

func addedKey(group, id string) string { return group + "/" + id }

// serverOf returns id's entry in servers.
func serverOf(servers []raft.Server, id string) (raft.Server, bool) {
	for _, s := range servers {
		if string(s.ID) == id {
			return s, true
		}
	}
	return raft.Server{}, false
}

// suffrage is id's suffrage in servers.
func suffrage(servers []raft.Server, id string) (raft.ServerSuffrage, bool) {
	s, ok := serverOf(servers, id)
	return s.Suffrage, ok
}

// addNonvoter adds (or re-addresses) the non-voter id of group at addr
// through add, and remembers the leader's last index to promote it once it
// caught up to it. It reports true: the group changed, or tried to.
func (n *Node) addNonvoter(group, id, addr string, last uint64, add func(id, addr string) error) bool {
	if err := add(id, addr); err != nil {
		n.logger.Warn("add non-voter", "group", group, "node", id, "addr", addr, "err", err)
		return true
	}
	n.ctl.added[addedKey(group, id)] = last
	n.logger.Info("added non-voter", "group", group, "node", id, "addr", addr)
	return true
}

func (n *Node) configChange(shard int, what, id string, err error) {
	if err != nil {
		n.logger.Warn(what, "shard", shard, "node", id, "err", err)
		return
	}
	n.logger.Info(what, "shard", shard, "node", id)
}

// caughtUp asks node id whether its replica at addr (of the group req
// asks about) applied the leader's last index when it was added; a
// non-voter added before this node led gets the current last index as
// its mark.
func (n *Node) caughtUp(group, id, addr string, last uint64, req rpcRequest, st *MetaState) bool {
	mark, ok := n.ctl.added[addedKey(group, id)]
	if !ok {
		n.ctl.added[addedKey(group, id)] = last
		return false
	}
	info, ok := st.Node(id)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	resp, err := n.rpc.call(ctx, info.RaftAddr, req)
	if err != nil {
		n.logger.Debug("catch-up check", "group", group, "node", id, "err", err)
		return false
	}
	_, replica := splitReplicaAddr(addr)
	return resp.Open && resp.Replica == replica && resp.Applied >= mark
}

// announcementEvery spaces a replica's announcements to its leader: a
// leader adds it within a controller round or two of the first.
const announcementEvery = time.Second

// announceReplicas tells each shard's leader where this node's replica
// is, for every replica placed here that its group's configuration (as
// the replica knows it) does not list under its address: a new replica,
// or one rebuilt after its directory was lost. The leader adds it as a
// non-voter (moveReplicas).
func (n *Node) announceReplicas(st *MetaState) {
	for i, g := range st.Groups {
		sh := n.local(i)
		if sh == nil || !slices.Contains(g.Replicas, n.id) || sh.Suffrage() != "" || sh.Leader() {
			continue
		}
		if time.Since(n.ctl.announcedAt[i]) < announcementEvery {
			continue
		}
		leader := cmp.Or(sh.LeaderID(), g.Leader)
		info, ok := st.Node(leader)
		if leader == "" || leader == n.id || !ok {
			continue
		}
		n.ctl.announcedAt[i] = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
		resp, err := n.rpc.call(ctx, info.RaftAddr, rpcRequest{Op: rpcAnnounce, Shard: i, Node: n.id, Addr: sh.Addr()})
		cancel()
		if err == nil && resp.Err != "" {
			err = errors.New(resp.Err)
		}
		if err != nil {
			n.logger.Debug("announce replica", "shard", i, "leader", leader, "err", err)
		}
	}
}

// announcements are the replica addresses other nodes announced to this
// node as their shards' leader: "shard/node" -> address.
type announcements struct {
	mu   sync.Mutex
	addr map[string]string
}

// announcement is the address node id last announced for its replica of
// shard i.
func (n *Node) announcement(i int, id string) (string, bool) {
	n.announced.mu.Lock()
	defer n.announced.mu.Unlock()
	a, ok := n.announced.addr[addedKey(shardKey(i), id)]
	return a, ok
}

// handleAnnounce records node req.Node's replica address for shard
// req.Shard, if this node leads the shard and the address is on that
// node's registered Raft port.
func (n *Node) handleAnnounce(req rpcRequest) rpcResponse {
	sh := n.local(req.Shard)
	if sh == nil || !sh.Ready() {
		return rpcResponse{NotLeader: true}
	}
	st := n.meta.state()
	info, ok := st.Node(req.Node)
	if !ok || req.Shard >= len(st.Groups) || !slices.Contains(st.Groups[req.Shard].Replicas, req.Node) {
		return rpcResponse{Err: fmt.Sprintf("node %q holds no replica of shard %d", req.Node, req.Shard)}
	}
	if host, replica := splitReplicaAddr(req.Addr); host != info.RaftAddr || !validReplicaID(replica) {
		return rpcResponse{Err: fmt.Sprintf("announced address %q is not a replica on %s's Raft port %s", req.Addr, req.Node, info.RaftAddr)}
	}
	n.announced.mu.Lock()
	if n.announced.addr == nil {
		n.announced.addr = map[string]string{}
	}
	changed := n.announced.addr[addedKey(shardKey(req.Shard), req.Node)] != req.Addr
	n.announced.addr[addedKey(shardKey(req.Shard), req.Node)] = req.Addr
	n.announced.mu.Unlock()
	if changed {
		n.logger.Info("replica announced", "shard", req.Shard, "node", req.Node, "addr", req.Addr)
		n.wake()
	}
	return rpcResponse{}
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
	n.transfer(i, sh, pref)
}

// transfer starts a leadership transfer of shard i to the voter id in the
// background, at most once per transferBackoff.
func (n *Node) transfer(i int, sh *Shard, id string) {
	if time.Since(n.ctl.transferAt[i]) < transferBackoff {
		return
	}
	srv, ok := serverOf(sh.Servers(), id)
	if !ok || srv.Suffrage != raft.Voter {
		return
	}
	n.ctl.transferAt[i] = time.Now()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := sh.TransferLeadership(id, string(srv.Address)); err != nil {
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
		if req.MetaGroup {
			_, replica := splitReplicaAddr(n.meta.addr())
			return rpcResponse{Open: true, Replica: replica, Applied: n.meta.r.AppliedIndex()}
		}
		sh := n.local(req.Shard)
		if sh == nil {
			return rpcResponse{}
		}
		return rpcResponse{Open: true, Replica: sh.ReplicaID(), Applied: sh.RaftApplied()}
	case rpcAnnounce:
		return n.handleAnnounce(req)
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
