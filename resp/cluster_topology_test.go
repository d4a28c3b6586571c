package resp

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
)

// TestClusterTopology: CLUSTER SLOTS, SHARDS, NODES and INFO in RESP2 and
// RESP3, byte for byte as a one-node Redis 7.0.15 cluster owning every slot
// answers (observed with CLUSTER ADDSLOTSRANGE 0 16383), with this node's
// advertised address where Redis, not knowing its own, shows an empty ip.
// The node leads 4 shards, shown as the one range of one master.
func TestClusterTopology(t *testing.T) {
	ts := startShardedServer(t, Config{NodeID: "node-a", Port: 6379, ClusterEnabled: true,
		AdvertiseAddr: "10.0.0.7:7001", BusPort: 7379}, 4)
	setTopology(ts.b, Topology{MyID: "node-a", Nodes: []TopologyNode{{ID: "node-a", Up: true}},
		Shards: []TopologyShard{{0, 4095, "node-a", nil}, {4096, 8191, "node-a", nil},
			{8192, 12287, "node-a", nil}, {12288, 16383, "node-a", nil}}})
	sum := sha1.Sum([]byte("node-a"))
	id := hex.EncodeToString(sum[:])
	node := "$8\r\n10.0.0.7\r\n:7001\r\n$40\r\n" + id + "\r\n"
	shardNode := "$2\r\nid\r\n$40\r\n" + id + "\r\n$4\r\nport\r\n:7001\r\n$2\r\nip\r\n$8\r\n10.0.0.7\r\n" +
		"$8\r\nendpoint\r\n$8\r\n10.0.0.7\r\n$4\r\nrole\r\n$6\r\nmaster\r\n" +
		"$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
	shardSlots := "$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n"
	nodes := id + " 10.0.0.7:7001@7379 myself,master - 0 0 0 connected 0-16383\n"
	info := "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n" +
		"cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:1\r\n" +
		"cluster_current_epoch:0\r\ncluster_my_epoch:0\r\ncluster_stats_messages_sent:0\r\n" +
		"cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
	tests := []struct {
		argv       []string
		resp2, re3 string
	}{
		{[]string{"CLUSTER", "SLOTS"},
			"*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n" + node + "*0\r\n",
			"*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n" + node + "%0\r\n"},
		{[]string{"CLUSTER", "SHARDS"},
			"*1\r\n*4\r\n" + shardSlots + "*14\r\n" + shardNode,
			"*1\r\n%2\r\n" + shardSlots + "%7\r\n" + shardNode},
		{[]string{"CLUSTER", "NODES"},
			"$" + itoa(int64(len(nodes))) + "\r\n" + nodes + "\r\n",
			"=" + itoa(int64(len(nodes)+4)) + "\r\ntxt:" + nodes + "\r\n"},
		{[]string{"CLUSTER", "INFO"},
			"$312\r\n" + info + "\r\n", "=316\r\ntxt:" + info + "\r\n"},
		{[]string{"CLUSTER", "SLOTS", "x"},
			"-ERR wrong number of arguments for 'cluster|slots' command\r\n",
			"-ERR wrong number of arguments for 'cluster|slots' command\r\n"},
		{[]string{"CLUSTER", "INFO", "x"},
			"-ERR wrong number of arguments for 'cluster|info' command\r\n",
			"-ERR wrong number of arguments for 'cluster|info' command\r\n"},
	}
	c2, c3 := dial(t, ts.addr), dial(t, ts.addr)
	c3.do("HELLO", "3")
	for _, tt := range tests {
		if got := c2.do(tt.argv...); got != tt.resp2 {
			t.Errorf("RESP2 %q: got %q; want %q", tt.argv, got, tt.resp2)
		}
		if got := c3.do(tt.argv...); got != tt.re3 {
			t.Errorf("RESP3 %q: got %q; want %q", tt.argv, got, tt.re3)
		}
	}
}

// TestClusterTopologyDefaults: without an advertised address the ip is
// empty, the port is Config.Port and the bus port Port+10000, as Redis
// shows a node that has not learnt its own address.
func TestClusterTopologyDefaults(t *testing.T) {
	ts := startServer(t, Config{NodeID: "n", Port: 16303})
	c := dial(t, ts.addr)
	if got := c.do("CLUSTER", "SLOTS"); !strings.Contains(got, "*4\r\n$0\r\n\r\n:16303\r\n$40\r\n") {
		t.Errorf("CLUSTER SLOTS: got %q; want an empty ip and port 16303", got)
	}
	if got := c.do("CLUSTER", "NODES"); !strings.Contains(got, " :16303@26303 myself,master ") {
		t.Errorf("CLUSTER NODES: got %q; want :16303@26303", got)
	}
}

// TestClusterModeReported: with ClusterEnabled, HELLO, INFO and CONFIG GET
// report cluster mode.
func TestClusterModeReported(t *testing.T) {
	ts := startServer(t, Config{NodeID: "n", ClusterEnabled: true})
	c := dial(t, ts.addr)
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"HELLO", "2"}, "$4\r\nmode\r\n$7\r\ncluster\r\n"},
		{[]string{"INFO", "cluster"}, "# Cluster\r\ncluster_enabled:1\r\n"},
		{[]string{"INFO"}, "\r\n# Cluster\r\ncluster_enabled:1\r\n"},
		{[]string{"INFO", "server"}, "redis_mode:cluster\r\n"},
		{[]string{"CONFIG", "GET", "cluster-enabled"}, "*2\r\n$15\r\ncluster-enabled\r\n$3\r\nyes\r\n"},
	}
	for _, tt := range tests {
		if got := c.do(tt.argv...); !strings.Contains(got, tt.want) {
			t.Errorf("%q: got %q; want it to contain %q", tt.argv, got, tt.want)
		}
	}
}
