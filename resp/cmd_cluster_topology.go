package resp

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/streamraft/streamraft/fsm"
)

// CLUSTER SLOTS, SHARDS, NODES and INFO, drawn from Backend.Topology. Each
// shard is a Raft group: its leader is shown as the range's master, its
// other voters as replicas, in the shapes Redis 7.0 answers. A Raft node
// leads some shards and follows others, which Redis's one-role-per-node
// model cannot show: CLUSTER NODES shows every node as a master of the
// ranges it leads, and the replicas of each range are in SLOTS and SHARDS.
// A one-node cluster answers byte for byte as a one-node Redis 7.0 cluster
// after CLUSTER ADDSLOTSRANGE 0 16383.

// self is this node's address as its Config gives it.
type self struct {
	ip      string
	port    int
	busPort int
}

// selfNode reads the node's id and addresses from the server's Config, for
// when the Topology does not know this node's advertised address.
func (c *conn) selfNode() self {
	cfg := c.srv.config()
	s := self{port: cfg.Port}
	if host, port, err := net.SplitHostPort(cfg.AdvertiseAddr); err == nil {
		s.ip = host
		if p, err := strconv.Atoi(port); err == nil {
			s.port = p
		}
	}
	s.busPort = cfg.BusPort
	if s.busPort == 0 {
		s.busPort = s.port + 10000
	}
	return s
}

// clusterSlots: CLUSTER SLOTS, one row [lo, hi, leader, followers...] per
// range with a leader, in slot order. A range without a leader is left out,
// as Redis leaves out unassigned slots. A follower that is down is left
// out, as Redis 7.0.15 leaves out a replica flagged fail (observed: a killed
// replica disappears from its master's row, a killed master stays), so
// that READONLY clients do not send reads to it.
func clusterSlots(c *conn, _ [][]byte) {
	v := c.topology()
	type row struct {
		lo, hi int
		nodes  []nodeView // leader first
	}
	var rows []row
	for _, s := range v.mergedShards() {
		if s.Leader == "" {
			continue
		}
		r := row{lo: s.Lo, hi: s.Hi, nodes: []nodeView{v.node(s.Leader)}}
		for _, f := range s.Followers {
			if n := v.node(f); n.up {
				r.nodes = append(r.nodes, n)
			}
		}
		rows = append(rows, r)
	}
	c.w.Array(len(rows))
	for _, r := range rows {
		c.w.Array(2 + len(r.nodes))
		c.w.Int(int64(r.lo))
		c.w.Int(int64(r.hi))
		for _, n := range r.nodes {
			c.w.Array(4)
			c.w.BulkString(n.ip)
			c.w.Int(int64(n.port))
			c.w.BulkString(n.id)
			c.w.Map(0) // metadata: no hostname
		}
	}
}

// clusterShards: CLUSTER SHARDS, one element per range: its slots, then its
// leader (role master) and followers (role replica). Redis groups a
// master's ranges into one shard; here ranges with the same leader and
// followers are merged only when adjacent, so each element is one
// contiguous range.
func clusterShards(c *conn, _ [][]byte) {
	v := c.topology()
	shards := v.mergedShards()
	c.w.Array(len(shards))
	for _, s := range shards {
		c.w.Map(2)
		c.w.BulkString("slots")
		c.w.Array(2)
		c.w.Int(int64(s.Lo))
		c.w.Int(int64(s.Hi))
		c.w.BulkString("nodes")
		n := len(s.Followers)
		if s.Leader != "" {
			n++
			c.w.Array(n)
			writeShardNode(c, v.node(s.Leader), "master")
		} else {
			c.w.Array(n)
		}
		for _, f := range s.Followers {
			writeShardNode(c, v.node(f), "replica")
		}
	}
}

// writeShardNode writes one node of a CLUSTER SHARDS element. The
// replication offset stays 0: Raft's log index is not Redis's byte offset.
func writeShardNode(c *conn, n nodeView, role string) {
	health := "online"
	if !n.up {
		health = "fail"
	}
	c.w.Map(7)
	c.w.BulkString("id")
	c.w.BulkString(n.id)
	c.w.BulkString("port")
	c.w.Int(int64(n.port))
	c.w.BulkString("ip")
	c.w.BulkString(n.ip)
	c.w.BulkString("endpoint")
	c.w.BulkString(n.ip)
	c.w.BulkString("role")
	c.w.BulkString(role)
	c.w.BulkString("replication-offset")
	c.w.Int(0)
	c.w.BulkString("health")
	c.w.BulkString(health)
}

// clusterNodes: CLUSTER NODES, one line per node, each a master of the
// ranges it leads (see above).
func clusterNodes(c *conn, _ [][]byte) {
	v := c.topology()
	var b strings.Builder
	for _, id := range v.order {
		writeNodeLine(&b, v, v.node(id), id)
	}
	c.w.Verbatim(b.String())
}

// writeNodeLine writes n's CLUSTER NODES line: no master id, no pings or
// pongs (there is no cluster bus), the cluster's one config epoch.
func writeNodeLine(b *strings.Builder, v topoView, n nodeView, id string) {
	flags, link := "master", "connected"
	if n.myself {
		flags = "myself,master"
	}
	if !n.up {
		flags, link = flags+",fail", "disconnected"
	}
	fmt.Fprintf(b, "%s %s:%d@%d %s - 0 0 %d %s", n.id, n.ip, n.port, n.busPort, flags, v.Epoch, link)
	for _, r := range v.ledRanges(id) {
		if r[0] == r[1] {
			fmt.Fprintf(b, " %d", r[0])
		} else {
			fmt.Fprintf(b, " %d-%d", r[0], r[1])
		}
	}
	b.WriteByte('\n')
}

// slotHealth counts slots by the state of their shard: ok (an up leader),
// pfail (no leader: an election is under way, like Redis's PFAIL it may
// resolve by itself) and fail (the leader is down).
type slotHealth struct{ ok, pfail, fail int }

func (v topoView) slotHealth() slotHealth {
	var h slotHealth
	for _, s := range v.Shards {
		n := s.Hi - s.Lo + 1
		switch {
		case s.Leader == "":
			h.pfail += n
		case v.node(s.Leader).up:
			h.ok += n
		default:
			h.fail += n
		}
	}
	return h
}

// leaders is the number of distinct shard leaders (Redis's cluster_size:
// masters serving at least one slot).
func (v topoView) leaders() int {
	seen := map[string]bool{}
	for _, s := range v.Shards {
		if s.Leader != "" {
			seen[s.Leader] = true
		}
	}
	return len(seen)
}

// clusterInfo: CLUSTER INFO. The state is ok only when every slot has an
// up leader; every slot is assigned (to a shard) even while it has none.
// No cluster bus messages are counted.
func clusterInfo(c *conn, _ [][]byte) {
	v := c.topology()
	h := v.slotHealth()
	state := "ok"
	if h.ok != fsm.SlotCount {
		state = "fail"
	}
	var b strings.Builder
	for _, kv := range []struct {
		k string
		v any
	}{
		{"cluster_state", state},
		{"cluster_slots_assigned", fsm.SlotCount},
		{"cluster_slots_ok", h.ok},
		{"cluster_slots_pfail", h.pfail},
		{"cluster_slots_fail", h.fail},
		{"cluster_known_nodes", len(v.order)},
		{"cluster_size", v.leaders()},
		{"cluster_current_epoch", v.Epoch},
		{"cluster_my_epoch", v.Epoch},
		{"cluster_stats_messages_sent", 0},
		{"cluster_stats_messages_received", 0},
		{"total_cluster_links_buffer_limit_exceeded", 0},
	} {
		fmt.Fprintf(&b, "%s:%v\r\n", kv.k, kv.v)
	}
	c.w.Verbatim(b.String())
}
