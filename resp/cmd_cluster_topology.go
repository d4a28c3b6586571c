package resp

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/streamraft/streamraft/fsm"
)

// CLUSTER SLOTS, SHARDS, NODES and INFO. Every shard of this node is a
// one-voter Raft group here, so the node owns every slot and the cluster it
// reports is one master serving 0-16383, in the shapes a one-node Redis 7.0
// cluster answers after CLUSTER ADDSLOTSRANGE 0 16383.

// lastSlot is the highest hash slot.
const lastSlot = fsm.SlotCount - 1

// self is this node as the topology commands show it.
type self struct {
	id      string // 40-hex
	ip      string
	port    int
	busPort int
}

// selfNode reads the node's id and addresses from the server's Config.
func (c *conn) selfNode() self {
	cfg := c.srv.config()
	s := self{id: nodeHexID(cfg.NodeID), port: cfg.Port}
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

// clusterSlots: CLUSTER SLOTS, one row [0, 16383, [ip, port, id, {}]].
func clusterSlots(c *conn, _ [][]byte) {
	me := c.selfNode()
	c.w.Array(1)
	c.w.Array(3)
	c.w.Int(0)
	c.w.Int(lastSlot)
	c.w.Array(4)
	c.w.BulkString(me.ip)
	c.w.Int(int64(me.port))
	c.w.BulkString(me.id)
	c.w.Map(0) // metadata: no hostname
}

// clusterShards: CLUSTER SHARDS, one shard of every slot with this node as
// its master.
func clusterShards(c *conn, _ [][]byte) {
	me := c.selfNode()
	c.w.Array(1)
	c.w.Map(2)
	c.w.BulkString("slots")
	c.w.Array(2)
	c.w.Int(0)
	c.w.Int(lastSlot)
	c.w.BulkString("nodes")
	c.w.Array(1)
	c.w.Map(7)
	c.w.BulkString("id")
	c.w.BulkString(me.id)
	c.w.BulkString("port")
	c.w.Int(int64(me.port))
	c.w.BulkString("ip")
	c.w.BulkString(me.ip)
	c.w.BulkString("endpoint")
	c.w.BulkString(me.ip)
	c.w.BulkString("role")
	c.w.BulkString("master")
	c.w.BulkString("replication-offset")
	c.w.Int(0)
	c.w.BulkString("health")
	c.w.BulkString("online")
}

// clusterNodes: CLUSTER NODES, this node's one line.
func clusterNodes(c *conn, _ [][]byte) {
	me := c.selfNode()
	c.w.Verbatim(fmt.Sprintf("%s %s:%d@%d myself,master - 0 0 0 connected 0-%d\n",
		me.id, me.ip, me.port, me.busPort, lastSlot))
}

// clusterInfo: CLUSTER INFO, a healthy one-node cluster. Epochs stay 0
// (no meta group yet) and no cluster bus messages are counted.
func clusterInfo(c *conn, _ [][]byte) {
	var b strings.Builder
	for _, kv := range []struct {
		k string
		v any
	}{
		{"cluster_state", "ok"},
		{"cluster_slots_assigned", fsm.SlotCount},
		{"cluster_slots_ok", fsm.SlotCount},
		{"cluster_slots_pfail", 0},
		{"cluster_slots_fail", 0},
		{"cluster_known_nodes", 1},
		{"cluster_size", 1},
		{"cluster_current_epoch", 0},
		{"cluster_my_epoch", 0},
		{"cluster_stats_messages_sent", 0},
		{"cluster_stats_messages_received", 0},
		{"total_cluster_links_buffer_limit_exceeded", 0},
	} {
		fmt.Fprintf(&b, "%s:%v\r\n", kv.k, kv.v)
	}
	c.w.Verbatim(b.String())
}
