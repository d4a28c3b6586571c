package resp

import (
	"crypto/sha1"
	"encoding/hex"

	"github.com/streamraft/streamraft/fsm"
)

// The CLUSTER subcommands a node answers from its own shards; the topology
// ones (SLOTS, SHARDS, NODES, INFO) are in cmd_cluster_topology.go.

func (t *table) addClusterCommands() {
	t.add("cluster|keyslot", kindLocal, clusterKeySlot)
	t.add("cluster|countkeysinslot", kindLocal, clusterCountKeysInSlot)
	t.add("cluster|getkeysinslot", kindLocal, clusterGetKeysInSlot)
	t.add("cluster|myid", kindLocal, clusterMyID)
	t.add("cluster|help", kindLocal, clusterHelp)
	t.add("cluster|slots", kindLocal, clusterSlots)
	t.add("cluster|shards", kindLocal, clusterShards)
	t.add("cluster|nodes", kindLocal, clusterNodes)
	t.add("cluster|info", kindLocal, clusterInfo)
	t.add("cluster|forget", kindLocal, clusterForget)
	t.add("cluster|sharddigest", kindLocal, clusterShardDigest).unlisted = true
}

// shardDigester is what CLUSTER SHARDDIGEST needs from the Backend.
type shardDigester interface {
	ShardDigest(shard int) (applied uint64, digest string, err error)
}

// clusterShardDigest: CLUSTER SHARDDIGEST shard (a streamraft extension):
// the applied index and state digest of this node's own replica of the
// shard, whatever its role, so that a test or an operator can check that
// every replica holds the same state.
func clusterShardDigest(c *conn, argv [][]byte) {
	d, ok := c.srv.backend.(shardDigester)
	shard, isInt := parseInt(argv[2])
	switch {
	case !ok:
		c.replyError("ERR CLUSTER SHARDDIGEST is not supported by this server")
	case !isInt || shard < 0 || shard >= int64(c.srv.backend.Shards()):
		c.replyError("ERR Invalid shard")
	default:
		applied, digest, err := d.ShardDigest(int(shard))
		if err != nil {
			c.replyError("ERR " + err.Error())
			return
		}
		c.w.Array(2)
		c.w.Int(int64(applied))
		c.w.Bulk([]byte(digest))
	}
}

// clusterForget: CLUSTER FORGET node-id. In Redis it drops a node from one
// node's table; here it drains the node from the whole cluster: its
// replicas move to the others, its leaderships are handed off, then it is
// removed (Backend.Forget). The node is named by the 40-hex ID CLUSTER
// NODES shows, or by its --node-id.
func clusterForget(c *conn, argv [][]byte) {
	want := string(argv[2])
	for _, n := range c.srv.backend.Topology().Nodes {
		if n.ID != want && nodeHexID(n.ID) != want {
			continue
		}
		if err := c.srv.backend.Forget(c.ctx, n.ID); err != nil {
			c.result(fsm.Reply{}, err)
			return
		}
		c.w.Simple("OK")
		return
	}
	c.replyError("ERR Unknown node " + want)
}

// clusterKeySlot: CLUSTER KEYSLOT key.
func clusterKeySlot(c *conn, argv [][]byte) { c.w.Int(int64(fsm.KeySlot(argv[2]))) }

// clusterCountKeysInSlot: CLUSTER COUNTKEYSINSLOT slot, read from the
// shard that owns the slot.
func clusterCountKeysInSlot(c *conn, argv [][]byte) {
	slot, ok := parseInt(argv[2])
	switch {
	case !ok:
		c.replyError(errNotInteger)
	case slot < 0 || slot >= fsm.SlotCount:
		c.replyError(errInvalidSlot)
	default:
		c.result(c.keysInSlot(int(slot), 0, false))
	}
}

// clusterGetKeysInSlot: CLUSTER GETKEYSINSLOT slot count.
func clusterGetKeysInSlot(c *conn, argv [][]byte) {
	slot, ok1 := parseInt(argv[2])
	count, ok2 := parseInt(argv[3])
	switch {
	case !ok1 || !ok2:
		c.replyError(errNotInteger)
	case slot < 0 || slot >= fsm.SlotCount || count < 0:
		c.replyError(errInvalidSlotCount)
	default:
		c.result(c.keysInSlot(int(slot), int(min(count, 1<<30)), true))
	}
}

// keysInSlot reads slot's keys (list) or their number from its shard. A
// slot of a shard this node does not lead has none here: 0 or an empty
// array, as Redis answers for a slot the node does not own.
func (c *conn) keysInSlot(slot, count int, list bool) (fsm.Reply, error) {
	if !c.leadsSlot(slot) {
		if list {
			return fsm.Array(), nil
		}
		return fsm.Int(0), nil
	}
	shard := c.srv.backend.ShardOfSlot(slot)
	return c.srv.backend.ReadShard(c.ctx, shard, func(m *fsm.Machine) fsm.Reply {
		keys, total := m.KeysInSlot(slot, count)
		if !list {
			return fsm.Int(int64(total))
		}
		out := make([]fsm.Reply, len(keys))
		for i, k := range keys {
			out[i] = fsm.BulkString(k)
		}
		return fsm.Array(out...)
	})
}

// clusterMyID: CLUSTER MYID, the node's 40-hex id: the SHA-1 of its
// --node-id, so it is stable across restarts and unique per node name.
func clusterMyID(c *conn, _ [][]byte) { c.w.BulkString(nodeHexID(c.srv.config().NodeID)) }

// nodeHexID derives Redis's 40-hex node id from a node name.
func nodeHexID(nodeID string) string {
	sum := sha1.Sum([]byte(nodeID))
	return hex.EncodeToString(sum[:])
}

// clusterHelp: CLUSTER HELP, Redis 7.0's lines for the subcommands served.
func clusterHelp(c *conn, _ [][]byte) {
	writeHelp(c, "cluster",
		"COUNTKEYSINSLOT <slot>",
		"    Return the number of keys in <slot>.",
		"GETKEYSINSLOT <slot> <count>",
		"    Return key names stored by current node in a slot.",
		"INFO",
		"    Return information about the cluster.",
		"KEYSLOT <key>",
		"    Return the hash slot for <key>.",
		"MYID",
		"    Return the node id.",
		"NODES",
		"    Return cluster configuration seen by node. Output format:",
		"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
		"SLOTS",
		"    Return information about slots range mappings. Each range is made of:",
		"    start, end, master and replicas IP addresses, ports and ids",
		"SHARDS",
		"    Return information about slot range mappings and the nodes associated with them.",
	)
}
