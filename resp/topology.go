package resp

import (
	"net"
	"slices"
	"strconv"
)

// The cluster as the topology commands and the fan-out see it: the
// Backend's Topology resolved into wire addresses, and the shards this node
// leads. Every call takes a fresh Topology, so a command sees one
// consistent picture even while leadership moves.

// nodeView is one node as CLUSTER SLOTS, SHARDS and NODES show it.
type nodeView struct {
	id      string // 40-hex
	ip      string
	port    int
	busPort int
	up      bool
	myself  bool
}

// topoView is a Topology with its nodes resolved for the wire.
type topoView struct {
	Topology
	views map[string]nodeView // by Topology node ID
	order []string            // node IDs as CLUSTER NODES lists them
}

// topology resolves the Backend's current Topology.
func (c *conn) topology() topoView {
	t := c.srv.backend.Topology()
	v := topoView{Topology: t, views: map[string]nodeView{}}
	for _, n := range t.Nodes {
		v.views[n.ID] = c.resolveNode(t.MyID, n)
		v.order = append(v.order, n.ID)
	}
	// This node always knows itself, as a Redis node always lists a
	// "myself" line, even if the Topology has not caught up.
	if _, ok := v.views[t.MyID]; !ok {
		v.views[t.MyID] = c.resolveNode(t.MyID, TopologyNode{ID: t.MyID, Up: true})
		v.order = append(v.order, t.MyID)
	}
	return v
}

// resolveNode turns n into its wire form. Without an advertised address
// this node falls back to its Config (selfNode); another node shows an
// empty ip and port 0, as Redis shows a node whose address it has not
// learnt.
func (c *conn) resolveNode(myID string, n TopologyNode) nodeView {
	v := nodeView{id: nodeHexID(n.ID), up: n.Up, myself: n.ID == myID}
	if host, port, err := net.SplitHostPort(n.Addr); err == nil {
		v.ip = host
		v.port, _ = strconv.Atoi(port)
	} else if v.myself {
		me := c.selfNode()
		v.ip, v.port, v.busPort = me.ip, me.port, me.busPort
	}
	switch {
	case n.BusPort != 0:
		v.busPort = n.BusPort
	case v.busPort == 0 && v.port != 0:
		v.busPort = v.port + 10000
	}
	return v
}

// node is id's view; an ID the Topology names in a shard but not among
// its nodes has no known address and is shown as down.
func (v topoView) node(id string) nodeView {
	if n, ok := v.views[id]; ok {
		return n
	}
	return nodeView{id: nodeHexID(id)}
}

// mergedShards is the Topology's shards with adjacent ones that have the
// same leader and followers joined into one range: Redis shows the
// contiguous slots of one master (with the same replicas) as one range, and
// a node split into several Raft groups over the same voters (a one-node
// cluster with 16 shards) is, to a client, one master.
func (v topoView) mergedShards() []TopologyShard {
	var out []TopologyShard
	for _, s := range v.Shards {
		if n := len(out); n > 0 && sameGroup(out[n-1], s) && out[n-1].Hi+1 == s.Lo {
			out[n-1].Hi = s.Hi
			continue
		}
		out = append(out, s)
	}
	return out
}

func sameGroup(a, b TopologyShard) bool {
	return a.Leader == b.Leader && slices.Equal(a.Followers, b.Followers)
}

// ledRanges is the maximal contiguous slot ranges of the shards id leads,
// in slot order.
func (v topoView) ledRanges(id string) [][2]int {
	var out [][2]int
	for _, s := range v.Shards {
		if s.Leader != id {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1]+1 == s.Lo {
			out[n-1][1] = s.Hi
			continue
		}
		out = append(out, [2]int{s.Lo, s.Hi})
	}
	return out
}

// ledShards reports, for each of the Backend's shards, whether this node
// leads it: keyless commands act on those only, as a Redis Cluster node's
// DBSIZE, KEYS, SCAN and FLUSHALL see only the keys of its own slots. The
// Backend shard of a Topology shard is the one owning its first slot.
func (c *conn) ledShards() []bool {
	t := c.srv.backend.Topology()
	led := make([]bool, c.srv.backend.Shards())
	for _, s := range t.Shards {
		if s.Leader != t.MyID {
			continue
		}
		if i := c.srv.backend.ShardOfSlot(s.Lo); i >= 0 && i < len(led) {
			led[i] = true
		}
	}
	return led
}

// leadsSlot reports whether this node leads the shard owning slot.
func (c *conn) leadsSlot(slot int) bool {
	t := c.srv.backend.Topology()
	for _, s := range t.Shards {
		if s.Lo <= slot && slot <= s.Hi {
			return s.Leader == t.MyID
		}
	}
	return false
}
