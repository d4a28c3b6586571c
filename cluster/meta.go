package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// MetaState is the cluster configuration the meta group replicates to every
// node: the node registry, the slot layout, and for every shard where its
// replicas should be (placement, decided by the meta leader) and what its
// leader last reported (leader, term, voters). Every node answers CLUSTER
// SLOTS and routes from its copy, so all nodes agree on the picture.
type MetaState struct {
	// ClusterID names the cluster, made when it formed; nodes check it in
	// gossip and in every connection header (identity.go). Empty only in
	// a configuration written before cluster IDs existed, until its meta
	// leader sets one.
	ClusterID string `json:"cluster_id,omitempty"`
	// Layout is the slot split, fixed at bootstrap; Shards == 0 means the
	// cluster was not initialized yet.
	Layout Layout `json:"layout"`
	// Replicas is the wanted number of voters per shard (capped by the
	// number of nodes that can hold one).
	Replicas int `json:"replicas"`
	// Nodes is the registry, sorted by ID.
	Nodes []NodeInfo `json:"nodes"`
	// Groups has one entry per shard.
	Groups []GroupInfo `json:"groups"`
	// Removed lists the IDs of nodes removed from the cluster, sorted:
	// they are never registered again (a node that comes back must use a
	// new ID).
	Removed []string `json:"removed,omitempty"`
	// Epoch is the log index of the last change (CLUSTER INFO's epoch).
	Epoch uint64 `json:"epoch"`
}

// NodeInfo is one node of the registry.
type NodeInfo struct {
	ID       string `json:"id"`
	RESPAddr string `json:"resp_addr"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr,omitempty"`
	// Draining nodes are given no replicas; once they hold none they are
	// removed from the registry (CLUSTER FORGET, or dead too long).
	Draining bool `json:"draining,omitempty"`
}

// GroupInfo is one shard's placement and last reported state.
type GroupInfo struct {
	// Replicas are the nodes that should be the shard's voters; the first
	// is its preferred leader.
	Replicas []string `json:"replicas"`
	// Formed is set by the group's first leader report: no node ever
	// bootstraps the group again (that could fork its history).
	Formed bool `json:"formed,omitempty"`
	// Leader, Term and Voters are what the shard's leader last reported.
	Leader string   `json:"leader,omitempty"`
	Term   uint64   `json:"term,omitempty"`
	Voters []string `json:"voters,omitempty"`
}

// Initialized reports whether the cluster configuration exists yet.
func (s *MetaState) Initialized() bool { return s.Layout.Shards > 0 }

// Node returns the registry entry of id.
func (s *MetaState) Node(id string) (NodeInfo, bool) {
	i, ok := slices.BinarySearchFunc(s.Nodes, id, func(n NodeInfo, id string) int { return strings.Compare(n.ID, id) })
	if !ok {
		return NodeInfo{}, false
	}
	return s.Nodes[i], true
}

// clone is a deep copy, so readers may keep it while the state changes.
func (s *MetaState) clone() *MetaState {
	c := *s
	c.Layout.Ranges = slices.Clone(s.Layout.Ranges)
	c.Nodes = slices.Clone(s.Nodes)
	c.Removed = slices.Clone(s.Removed)
	c.Groups = make([]GroupInfo, len(s.Groups))
	for i, g := range s.Groups {
		g.Replicas = slices.Clone(g.Replicas)
		g.Voters = slices.Clone(g.Voters)
		c.Groups[i] = g
	}
	return &c
}

// The meta log's operations. Add new ones at the end.
const (
	metaOpInit      = "init"       // Layout, Replicas, Nodes: create the configuration
	metaOpAddNode   = "add_node"   // Node: add to the registry, or update its addresses
	metaOpPlace     = "place"      // Placement: new replica lists, one per shard
	metaOpLeader    = "leader"     // Shard, Node, Term, Voters: a leader's report
	metaOpDrain     = "drain"      // Node: move its replicas away, then remove it
	metaOpRemove    = "remove"     // Node: drop it from the registry
	metaOpClusterID = "cluster_id" // ClusterID: name a cluster formed before cluster IDs existed
	metaCmdVersion  = 1
	maxMetaVoters   = 5 // the meta group's voters; other nodes follow as non-voters
	defaultReplicas = 3
)

// metaCmd is one meta log entry, JSON-encoded: the meta log is small and
// rare, so readability wins over size.
type metaCmd struct {
	Version   int        `json:"v"`
	Op        string     `json:"op"`
	Layout    *Layout    `json:"layout,omitempty"`
	Replicas  int        `json:"replicas,omitempty"`
	Nodes     []NodeInfo `json:"nodes,omitempty"`
	Node      string     `json:"node,omitempty"`
	Shard     int        `json:"shard,omitempty"`
	Term      uint64     `json:"term,omitempty"`
	Voters    []string   `json:"voters,omitempty"`
	Placement [][]string `json:"placement,omitempty"`
	ClusterID string     `json:"cluster_id,omitempty"`
}

func encodeMetaCmd(c metaCmd) []byte {
	c.Version = metaCmdVersion
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("cluster: encode meta command: %v", err)) // plain data: cannot fail
	}
	return b
}

// apply changes the state by one command at log index idx. It returns an
// error for a command the state refuses (the same on every replica: the
// state is unchanged); an undecodable entry is a bug and panics.
func (s *MetaState) apply(data []byte, idx uint64) error {
	var c metaCmd
	if err := json.Unmarshal(data, &c); err != nil || c.Version != metaCmdVersion {
		panic(fmt.Sprintf("cluster: undecodable meta entry at index %d (version %d): %v", idx, c.Version, err))
	}
	if c.Op != metaOpInit && !s.Initialized() {
		return fmt.Errorf("meta %s: cluster not initialized", c.Op)
	}
	changed, err := s.applyCmd(c)
	if err != nil {
		return fmt.Errorf("meta %s: %w", c.Op, err)
	}
	if changed {
		s.Epoch = idx
	}
	return nil
}

// applyCmd applies c; changed reports whether the configuration (not just a
// leader report's term) changed.
func (s *MetaState) applyCmd(c metaCmd) (changed bool, err error) {
	switch c.Op {
	case metaOpInit:
		return s.applyInit(c)
	case metaOpAddNode:
		return s.applyAddNode(c.Nodes)
	case metaOpPlace:
		return s.applyPlace(c.Placement)
	case metaOpLeader:
		return s.applyLeader(c)
	case metaOpDrain:
		i, ok := s.nodeIndex(c.Node)
		if !ok {
			return false, fmt.Errorf("no node %q", c.Node)
		}
		changed = !s.Nodes[i].Draining
		s.Nodes[i].Draining = true
		return changed, nil
	case metaOpRemove:
		return s.applyRemove(c.Node)
	case metaOpClusterID:
		if s.ClusterID != "" || c.ClusterID == "" {
			return false, fmt.Errorf("the cluster ID is set once")
		}
		s.ClusterID = c.ClusterID
		return true, nil
	}
	return false, fmt.Errorf("unknown operation")
}

func (s *MetaState) applyInit(c metaCmd) (bool, error) {
	if s.Initialized() {
		return false, fmt.Errorf("already initialized")
	}
	if c.Layout == nil || c.Layout.Shards < 1 || len(c.Layout.Ranges) != c.Layout.Shards {
		return false, fmt.Errorf("bad layout")
	}
	s.Layout = *c.Layout
	s.ClusterID = c.ClusterID
	s.Replicas = max(c.Replicas, 1)
	if _, err := s.applyAddNode(c.Nodes); err != nil {
		return false, err
	}
	s.Groups = make([]GroupInfo, s.Layout.Shards)
	return s.applyPlace(Rebalance(s, nil, len(s.Groups)))
}

func (s *MetaState) nodeIndex(id string) (int, bool) {
	return slices.BinarySearchFunc(s.Nodes, id, func(n NodeInfo, id string) int { return strings.Compare(n.ID, id) })
}

func (s *MetaState) applyAddNode(nodes []NodeInfo) (bool, error) {
	changed := false
	for _, n := range nodes {
		if n.ID == "" {
			return false, fmt.Errorf("empty node ID")
		}
		i, ok := s.nodeIndex(n.ID)
		if _, gone := slices.BinarySearch(s.Removed, n.ID); gone {
			return false, fmt.Errorf("node %q was removed from the cluster; it must rejoin with a new ID", n.ID)
		}
		if ok {
			old := s.Nodes[i]
			n.Draining = old.Draining
			changed = changed || old != n
			s.Nodes[i] = n
			continue
		}
		n.Draining = false
		s.Nodes = slices.Insert(s.Nodes, i, n)
		changed = true
	}
	return changed, nil
}

func (s *MetaState) applyPlace(p [][]string) (bool, error) {
	if len(p) != len(s.Groups) {
		return false, fmt.Errorf("placement for %d shards, want %d", len(p), len(s.Groups))
	}
	changed := false
	for i, reps := range p {
		for _, id := range reps {
			if _, ok := s.nodeIndex(id); !ok {
				return false, fmt.Errorf("shard %d: no node %q", i, id)
			}
		}
		if !slices.Equal(s.Groups[i].Replicas, reps) {
			s.Groups[i].Replicas = slices.Clone(reps)
			changed = true
		}
	}
	return changed, nil
}

func (s *MetaState) applyLeader(c metaCmd) (bool, error) {
	if c.Shard < 0 || c.Shard >= len(s.Groups) {
		return false, fmt.Errorf("no shard %d", c.Shard)
	}
	g := &s.Groups[c.Shard]
	if c.Term < g.Term {
		return false, nil // a stale report: a later leader already wrote
	}
	changed := g.Leader != c.Node || !slices.Equal(g.Voters, c.Voters) || !g.Formed
	g.Leader, g.Term, g.Voters, g.Formed = c.Node, c.Term, slices.Clone(c.Voters), true
	return changed, nil
}

func (s *MetaState) applyRemove(id string) (bool, error) {
	i, ok := s.nodeIndex(id)
	if !ok {
		return false, nil
	}
	for sh, g := range s.Groups {
		if slices.Contains(g.Replicas, id) {
			return false, fmt.Errorf("node %q still holds a replica of shard %d", id, sh)
		}
	}
	s.Nodes = slices.Delete(s.Nodes, i, i+1)
	if j, found := slices.BinarySearch(s.Removed, id); !found {
		s.Removed = slices.Insert(s.Removed, j, id)
	}
	return true, nil
}
