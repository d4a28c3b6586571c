package resp

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/fsm"
)

// setTopology makes b's Topology return t.
func setTopology(b *testBackend, t Topology) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topo = &t
}

func setReadLocalErr(b *testBackend, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.readLocalErr = err
}

// hexID is the SHA-1 of a node name in hex, as Redis node ids look.
func hexID(name string) string {
	sum := sha1.Sum([]byte(name))
	return hex.EncodeToString(sum[:])
}

// Expected-reply builders: plain RESP, written out so the tests do not
// lean on the Writer they check.
func wBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func wInt(n int) string     { return ":" + strconv.Itoa(n) + "\r\n" }

// wVerbatim is s as a RESP2 bulk string or a RESP3 "txt" verbatim string.
func wVerbatim(proto int, s string) string {
	if proto == 3 {
		return "=" + strconv.Itoa(len(s)+4) + "\r\ntxt:" + s + "\r\n"
	}
	return wBulk(s)
}

// wMap is a map header of n pairs: "*2n" in RESP2, "%n" in RESP3.
func wMap(proto, n int) string {
	if proto == 3 {
		return "%" + strconv.Itoa(n) + "\r\n"
	}
	return "*" + strconv.Itoa(2*n) + "\r\n"
}

// wSlotsRow is one CLUSTER SLOTS row; nodes are "name ip port" triples.
func wSlotsRow(proto, lo, hi int, nodes ...string) string {
	s := "*" + strconv.Itoa(2+len(nodes)) + "\r\n" + wInt(lo) + wInt(hi)
	for _, n := range nodes {
		f := strings.Fields(n)
		port, _ := strconv.Atoi(f[2])
		s += "*4\r\n" + wBulk(f[1]) + wInt(port) + wBulk(hexID(f[0])) + wMap(proto, 0)
	}
	return s
}

// wShard is one CLUSTER SHARDS element; nodes are
// "name ip port role health" tuples.
func wShard(proto, lo, hi int, nodes ...string) string {
	s := wMap(proto, 2) + wBulk("slots") + "*2\r\n" + wInt(lo) + wInt(hi) +
		wBulk("nodes") + "*" + strconv.Itoa(len(nodes)) + "\r\n"
	for _, n := range nodes {
		f := strings.Fields(n)
		port, _ := strconv.Atoi(f[2])
		s += wMap(proto, 7) + wBulk("id") + wBulk(hexID(f[0])) + wBulk("port") + wInt(port) +
			wBulk("ip") + wBulk(f[1]) + wBulk("endpoint") + wBulk(f[1]) + wBulk("role") + wBulk(f[3]) +
			wBulk("replication-offset") + wInt(0) + wBulk("health") + wBulk(f[4])
	}
	return s
}

func wClusterInfo(state string, ok, pfail, fail, known, size, epoch int) string {
	return fmt.Sprintf("cluster_state:%s\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:%d\r\n"+
		"cluster_slots_pfail:%d\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:%d\r\ncluster_size:%d\r\n"+
		"cluster_current_epoch:%d\r\ncluster_my_epoch:%d\r\ncluster_stats_messages_sent:0\r\n"+
		"cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
		state, ok, pfail, fail, known, size, epoch, epoch)
}

// threeNodes is a 3-node cluster seen from n1, whose address comes from
// its Config (Addr is empty): n1 leads shards 0 and 2, n2 shard 1, n3
// shard 3, each shard followed by the two other nodes.
func threeNodes() Topology {
	return Topology{MyID: "n1", Epoch: 7,
		Nodes: []TopologyNode{{ID: "n1", Up: true}, {ID: "n2", Addr: "10.0.0.2:7002", Up: true},
			{ID: "n3", Addr: "10.0.0.3:7003", BusPort: 7303, Up: true}},
		Shards: []TopologyShard{{0, 4095, "n1", []string{"n2", "n3"}}, {4096, 8191, "n2", []string{"n1", "n3"}},
			{8192, 12287, "n1", []string{"n2", "n3"}}, {12288, 16383, "n3", []string{"n1", "n2"}}}}
}

// threeNodesConfig is n1's Config for threeNodes.
var threeNodesConfig = Config{NodeID: "n1", Port: 6379, ClusterEnabled: true,
	AdvertiseAddr: "10.0.0.1:7001", BusPort: 7101}

// topologyCase is the four commands' expected bytes for one topology;
// each func gets the protocol version.
type topologyCase struct {
	name                       string
	topo                       Topology
	slots, shards, nodes, info func(proto int) string
}

// runTopologyCases checks every case in RESP2 and RESP3.
func runTopologyCases(t *testing.T, tests []topologyCase) {
	t.Helper()
	ts := startShardedServer(t, threeNodesConfig, 4)
	c2, c3 := dial(t, ts.addr), dial(t, ts.addr)
	c3.do("HELLO", "3")
	for _, tt := range tests {
		setTopology(ts.b, tt.topo)
		for _, cmd := range []struct {
			sub  string
			want func(int) string
		}{{"SLOTS", tt.slots}, {"SHARDS", tt.shards}, {"NODES", tt.nodes}, {"INFO", tt.info}} {
			for proto, c := range map[int]*rawClient{2: c2, 3: c3} {
				if got, want := c.do("CLUSTER", cmd.sub), cmd.want(proto); got != want {
					t.Errorf("%s: RESP%d CLUSTER %s = %q; want %q", tt.name, proto, cmd.sub, got, want)
				}
			}
		}
	}
}

// TestClusterTopologyMultiNode: the four topology commands for a 3-node,
// 4-shard cluster, healthy; with a shard that has no leader and a node
// down; and with adjacent shards of one group merged and a one-slot range.
// Shapes as a 6-node Redis 7.0.15 cluster (3 masters, 3 replicas) answers;
// there a killed replica vanishes from CLUSTER SLOTS while a killed master
// stays, and CLUSTER SHARDS shows both with health "fail".
func TestClusterTopologyMultiNode(t *testing.T) {
	n1, n2, n3 := "n1 10.0.0.1 7001", "n2 10.0.0.2 7002", "n3 10.0.0.3 7003"
	id1, id2, id3 := hexID("n1"), hexID("n2"), hexID("n3")

	degraded := threeNodes()
	degraded.Shards[1].Leader = ""
	degraded.Shards[1].Followers = []string{"n1", "n3"}
	degraded.Nodes[2].Up = false

	merged := threeNodes()
	merged.Epoch = 0
	merged.Shards = []TopologyShard{{0, 4, "n1", []string{"n2"}}, {5, 5, "n2", []string{"n1"}},
		{6, 8191, "n1", []string{"n2"}}, {8192, 12287, "n3", []string{"n1", "n2"}},
		{12288, 16383, "n3", []string{"n1", "n2"}}}

	runTopologyCases(t, []topologyCase{{
		name: "healthy",
		topo: threeNodes(),
		slots: func(p int) string {
			return "*4\r\n" + wSlotsRow(p, 0, 4095, n1, n2, n3) + wSlotsRow(p, 4096, 8191, n2, n1, n3) +
				wSlotsRow(p, 8192, 12287, n1, n2, n3) + wSlotsRow(p, 12288, 16383, n3, n1, n2)
		},
		shards: func(p int) string {
			return "*4\r\n" +
				wShard(p, 0, 4095, n1+" master online", n2+" replica online", n3+" replica online") +
				wShard(p, 4096, 8191, n2+" master online", n1+" replica online", n3+" replica online") +
				wShard(p, 8192, 12287, n1+" master online", n2+" replica online", n3+" replica online") +
				wShard(p, 12288, 16383, n3+" master online", n1+" replica online", n2+" replica online")
		},
		nodes: func(p int) string {
			return wVerbatim(p, id1+" 10.0.0.1:7001@7101 myself,master - 0 0 7 connected 0-4095 8192-12287\n"+
				id2+" 10.0.0.2:7002@17002 master - 0 0 7 connected 4096-8191\n"+
				id3+" 10.0.0.3:7003@7303 master - 0 0 7 connected 12288-16383\n")
		},
		info: func(p int) string { return wVerbatim(p, wClusterInfo("ok", 16384, 0, 0, 3, 3, 7)) },
	}, {
		name: "no leader, n3 down",
		topo: degraded,
		slots: func(p int) string {
			return "*3\r\n" + wSlotsRow(p, 0, 4095, n1, n2) + wSlotsRow(p, 8192, 12287, n1, n2) +
				wSlotsRow(p, 12288, 16383, n3, n1, n2)
		},
		shards: func(p int) string {
			return "*4\r\n" +
				wShard(p, 0, 4095, n1+" master online", n2+" replica online", n3+" replica fail") +
				wShard(p, 4096, 8191, n1+" replica online", n3+" replica fail") +
				wShard(p, 8192, 12287, n1+" master online", n2+" replica online", n3+" replica fail") +
				wShard(p, 12288, 16383, n3+" master fail", n1+" replica online", n2+" replica online")
		},
		nodes: func(p int) string {
			return wVerbatim(p, id1+" 10.0.0.1:7001@7101 myself,master - 0 0 7 connected 0-4095 8192-12287\n"+
				id2+" 10.0.0.2:7002@17002 master - 0 0 7 connected\n"+
				id3+" 10.0.0.3:7003@7303 master,fail - 0 0 7 disconnected 12288-16383\n")
		},
		info: func(p int) string { return wVerbatim(p, wClusterInfo("fail", 8192, 4096, 4096, 3, 2, 7)) },
	}, {
		name: "merged ranges",
		topo: merged,
		slots: func(p int) string {
			return "*4\r\n" + wSlotsRow(p, 0, 4, n1, n2) + wSlotsRow(p, 5, 5, n2, n1) +
				wSlotsRow(p, 6, 8191, n1, n2) + wSlotsRow(p, 8192, 16383, n3, n1, n2)
		},
		shards: func(p int) string {
			return "*4\r\n" + wShard(p, 0, 4, n1+" master online", n2+" replica online") +
				wShard(p, 5, 5, n2+" master online", n1+" replica online") +
				wShard(p, 6, 8191, n1+" master online", n2+" replica online") +
				wShard(p, 8192, 16383, n3+" master online", n1+" replica online", n2+" replica online")
		},
		nodes: func(p int) string {
			return wVerbatim(p, id1+" 10.0.0.1:7001@7101 myself,master - 0 0 0 connected 0-4 6-8191\n"+
				id2+" 10.0.0.2:7002@17002 master - 0 0 0 connected 5\n"+
				id3+" 10.0.0.3:7003@7303 master - 0 0 0 connected 8192-16383\n")
		},
		info: func(p int) string { return wVerbatim(p, wClusterInfo("ok", 16384, 0, 0, 3, 3, 0)) },
	}})
}

// TestClusterSlotsGoRedis: go-redis parses the multi-node CLUSTER SLOTS
// into the ranges, masters and replicas a cluster client routes by.
func TestClusterSlotsGoRedis(t *testing.T) {
	ts := startShardedServer(t, threeNodesConfig, 4)
	setTopology(ts.b, threeNodes())
	rdb := redis.NewClient(&redis.Options{Addr: ts.addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	//lint:ignore SA1019 go-redis's ClusterClient still routes by CLUSTER SLOTS
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("ClusterSlots: %v", err)
	}
	var got []string
	for _, s := range slots {
		row := fmt.Sprintf("%d-%d", s.Start, s.End)
		for _, n := range s.Nodes {
			row += " " + n.Addr
		}
		got = append(got, row)
	}
	want := []string{"0-4095 10.0.0.1:7001 10.0.0.2:7002 10.0.0.3:7003",
		"4096-8191 10.0.0.2:7002 10.0.0.1:7001 10.0.0.3:7003",
		"8192-12287 10.0.0.1:7001 10.0.0.2:7002 10.0.0.3:7003",
		"12288-16383 10.0.0.3:7003 10.0.0.1:7001 10.0.0.2:7002"}
	if !slices.Equal(got, want) {
		t.Errorf("ClusterSlots = %q; want %q", got, want)
	}
}

// TestClusterNodesUnknownAddr: a node without an address shows ":0@0" (as
// Redis shows a node it has not learnt the address of), one without a bus
// port its port+10000, and a shard leader missing from Nodes is shown down.
func TestClusterNodesUnknownAddr(t *testing.T) {
	ts := startShardedServer(t, threeNodesConfig, 1)
	setTopology(ts.b, Topology{MyID: "n1",
		Nodes:  []TopologyNode{{ID: "n1", Addr: "10.0.0.9:7009", Up: true}, {ID: "n2", Up: true}},
		Shards: []TopologyShard{{0, 99, "n1", []string{"n2"}}, {100, 16383, "nx", nil}}})
	c := dial(t, ts.addr)
	want := wVerbatim(2, hexID("n1")+" 10.0.0.9:7009@17009 myself,master - 0 0 0 connected 0-99\n"+
		hexID("n2")+" :0@0 master - 0 0 0 connected\n")
	if got := c.do("CLUSTER", "NODES"); got != want {
		t.Errorf("CLUSTER NODES = %q; want %q", got, want)
	}
	wantInfo := wVerbatim(2, wClusterInfo("fail", 100, 0, 16284, 2, 2, 0))
	if got := c.do("CLUSTER", "INFO"); got != wantInfo {
		t.Errorf("CLUSTER INFO = %q; want %q", got, wantInfo)
	}
}

// TestReadOnly: after READONLY, keyed non-blocking reads go through
// ReadLocal (and answer what Read answers); writes, blocking reads, keyless
// commands and transactions do not; READWRITE and RESET end it.
func TestReadOnly(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	plain, ro := dial(t, ts.addr), dial(t, ts.addr)
	plain.do("XADD", "s", "1-1", "f", "v")
	plain.do("XGROUP", "CREATE", "s", "g", "0")
	tests := []struct {
		argv  []string
		local bool
	}{
		{[]string{"XLEN", "s"}, false}, // before READONLY
		{[]string{"READONLY"}, false},
		{[]string{"XLEN", "s"}, true},
		{[]string{"XRANGE", "s", "-", "+"}, true},
		{[]string{"XREVRANGE", "s", "+", "-"}, true},
		{[]string{"XINFO", "STREAM", "s"}, true},
		{[]string{"XINFO", "GROUPS", "s"}, true},
		{[]string{"XPENDING", "s", "g"}, true},
		{[]string{"XREAD", "STREAMS", "s", "0"}, true},
		{[]string{"EXISTS", "s"}, true},
		{[]string{"XREAD", "BLOCK", "10", "STREAMS", "s", "0"}, false},
		{[]string{"XREAD", "BLOCK", "10", "STREAMS", "s", "$"}, false},
		{[]string{"XADD", "t", "1-1", "f", "v"}, false},
		{[]string{"DBSIZE"}, false},
		{[]string{"XINFO", "HELP"}, false},
		{[]string{"MULTI"}, false},
		{[]string{"XLEN", "s"}, false},
		{[]string{"EXEC"}, false},
		{[]string{"READWRITE"}, false},
		{[]string{"XLEN", "s"}, false},
		{[]string{"READONLY"}, false},
		{[]string{"XLEN", "s"}, true},
		{[]string{"RESET"}, false},
		{[]string{"XLEN", "s"}, false},
	}
	for _, tt := range tests {
		want := plain.do(tt.argv...)
		if tt.argv[0] == "XADD" {
			plain.do("DEL", "t") // ro adds it again
		}
		before := ts.b.readLocals.Load()
		if got := ro.do(tt.argv...); got != want {
			t.Errorf("%q = %q; want %q", tt.argv, got, want)
		}
		if local := ts.b.readLocals.Load() > before; local != tt.local {
			t.Errorf("%q ran through ReadLocal: %v; want %v", tt.argv, local, tt.local)
		}
	}
}

// TestReadOnlyMoved: a ReadLocal error reaches the client in its Redis
// form (a node without a replica of the shard redirects).
func TestReadOnlyMoved(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	c.do("READONLY")
	setReadLocalErr(ts.b, fmt.Errorf("read local: %w", &MovedError{Slot: 12182, Addr: "10.0.0.2:7002"}))
	if got, want := c.do("XLEN", "foo"), "-MOVED 12182 10.0.0.2:7002\r\n"; got != want {
		t.Errorf("XLEN foo = %q; want %q", got, want)
	}
}

// shardKeys is the keys of shard i, read from the machine directly.
func shardKeys(ts *testServer, i int) []string {
	r := ts.b.ms[i].Read([][]byte{[]byte("KEYS"), []byte("*")}, 0)
	var out []string
	for _, e := range r.Elems {
		out = append(out, string(e.Bulk))
	}
	return out
}

// TestFanoutLedShards: keyless commands and the slot commands see only
// the shards this node leads.
func TestFanoutLedShards(t *testing.T) {
	needStreams(t)
	ts := startShardedServer(t, threeNodesConfig, 4)
	addKeys(t, ts, 100)
	setTopology(ts.b, threeNodes()) // its ranges are the 4-shard testBackend's
	led := append(shardKeys(ts, 0), shardKeys(ts, 2)...)
	slices.Sort(led)
	c := dial(t, ts.addr)

	if got, want := c.do("DBSIZE"), wInt(len(led)); got != want {
		t.Errorf("DBSIZE = %q; want %q", got, want)
	}
	if got, want := c.do("INFO", "keyspace"), fmt.Sprintf("db0:keys=%d,", len(led)); !strings.Contains(got, want) {
		t.Errorf("INFO keyspace = %q; want it to contain %q", got, want)
	}
	if got := sortedKeys(t, c.do("KEYS", "*")); !slices.Equal(got, led) {
		t.Errorf("KEYS * = %q; want %q", got, led)
	}
	rdb := redis.NewClient(&redis.Options{Addr: ts.addr})
	defer rdb.Close()
	var scanned []string
	for k := range scanAll(t, rdb, 3, func(int) {}) {
		scanned = append(scanned, k)
	}
	slices.Sort(scanned)
	if !slices.Equal(scanned, led) {
		t.Errorf("SCAN returned %q; want %q", scanned, led)
	}
	checkSlotCommands(t, ts, c)

	c.do("FLUSHALL")
	for i, wantEmpty := range []bool{true, false, true, false} {
		if n := len(shardKeys(ts, i)); (n == 0) != wantEmpty {
			t.Errorf("after FLUSHALL shard %d has %d keys; want empty: %v", i, n, wantEmpty)
		}
	}
}

// checkSlotCommands: COUNTKEYSINSLOT and GETKEYSINSLOT answer for a slot
// of a shard led here, and 0 / empty for one of a shard led elsewhere.
func checkSlotCommands(t *testing.T, ts *testServer, c *rawClient) {
	t.Helper()
	for i, isLed := range []bool{true, false, true, false} {
		k := shardKeys(ts, i)[0]
		slot := strconv.Itoa(fsm.KeySlot([]byte(k)))
		keys, total := ts.b.ms[i].KeysInSlot(fsm.KeySlot([]byte(k)), 1)
		wantCount, wantGet := wInt(0), "*0\r\n"
		if isLed {
			wantCount, wantGet = wInt(total), "*1\r\n"+wBulk(keys[0])
		}
		if got := c.do("CLUSTER", "COUNTKEYSINSLOT", slot); got != wantCount {
			t.Errorf("shard %d: COUNTKEYSINSLOT %s = %q; want %q", i, slot, got, wantCount)
		}
		if got := c.do("CLUSTER", "GETKEYSINSLOT", slot, "1"); got != wantGet {
			t.Errorf("shard %d: GETKEYSINSLOT %s 1 = %q; want %q", i, slot, got, wantGet)
		}
	}
}

// sortedKeys parses a RESP2 array of bulk strings.
func sortedKeys(t *testing.T, reply string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(reply, "\r\n"), "\r\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "*") {
		t.Fatalf("not an array: %q", reply)
	}
	var out []string
	for i := 2; i < len(lines); i += 2 {
		out = append(out, lines[i])
	}
	slices.Sort(out)
	return out
}

// TestScanSkipsUnledShards: a SCAN cursor into a shard not led here (its
// start or its middle) moves on to the next led shard within the call; one
// into the last shard, not led, ends the scan; on a one-shard node that
// leads nothing, SCAN is empty.
func TestScanSkipsUnledShards(t *testing.T) {
	needStreams(t)
	ts := startShardedServer(t, threeNodesConfig, 4)
	addKeys(t, ts, 100)
	setTopology(ts.b, threeNodes()) // its ranges are the 4-shard testBackend's
	c := dial(t, ts.addr)
	shard2 := shardKeys(ts, 2)
	slices.Sort(shard2)
	tests := []struct {
		cursor uint64
		want   []string
		next   string
	}{
		{1 << 62, shard2, strconv.FormatUint(3<<62, 10)},
		{1<<62 | (1<<62 - 1), shard2, strconv.FormatUint(3<<62, 10)}, // near the end of shard 1
		{3 << 62, nil, "0"},
		{3<<62 | 99, nil, "0"},
	}
	for _, tt := range tests {
		cur := strconv.FormatUint(tt.cursor, 10)
		got := c.do("SCAN", cur, "COUNT", "1000")
		prefix := "*2\r\n" + wBulk(tt.next)
		if !strings.HasPrefix(got, prefix) {
			t.Errorf("SCAN %s = %q; want cursor %s", cur, got, tt.next)
			continue
		}
		if keys := sortedKeys(t, strings.TrimPrefix(got, prefix)); !slices.Equal(keys, tt.want) {
			t.Errorf("SCAN %s keys = %q; want %q", cur, keys, tt.want)
		}
	}

	one := startServer(t, threeNodesConfig)
	addKeys(t, one, 3)
	setTopology(one.b, Topology{MyID: "n1", Shards: []TopologyShard{{0, 16383, "n2", nil}}})
	c1 := dial(t, one.addr)
	for _, tt := range []struct{ argv, want string }{
		{"SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n"}, {"DBSIZE", ":0\r\n"}, {"KEYS *", "*0\r\n"}, {"FLUSHALL", "+OK\r\n"},
	} {
		if got := c1.do(strings.Fields(tt.argv)...); got != tt.want {
			t.Errorf("not leading: %s = %q; want %q", tt.argv, got, tt.want)
		}
	}
	if n := len(shardKeys(one, 0)); n != 3 {
		t.Errorf("not leading: FLUSHALL left %d keys; want 3 (the shard is led elsewhere)", n)
	}
}

// TestScanShardsSkip: scanShards passes over shards whose scanner answers
// errNotLed within one call, and still returns other errors.
func TestScanShardsSkip(t *testing.T) {
	shards := [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}}
	notLed := map[int]bool{0: true, 1: true, 3: true}
	scan := func(shard int, _ uint64) (uint64, []fsm.Reply, *fsm.Reply, error) {
		if notLed[shard] {
			return 0, nil, nil, errNotLed
		}
		var out []fsm.Reply
		for _, k := range shards[shard] {
			out = append(out, fsm.BulkString(k))
		}
		return 0, out, nil, nil
	}
	var got []string
	var calls int
	for cursor := uint64(0); ; calls++ {
		if calls > 10 {
			t.Fatal("scan did not end")
		}
		r, err := scanShards(len(shards), cursor, scan)
		if err != nil {
			t.Fatalf("scanShards: %v", err)
		}
		for _, k := range r.Elems[1].Elems {
			got = append(got, string(k.Bulk))
		}
		cursor, _ = strconv.ParseUint(string(r.Elems[0].Bulk), 10, 64)
		if cursor == 0 {
			break
		}
	}
	// One call skips 0 and 1 and ends at c (cursor: shard 3); the next
	// skips 3 and ends at e.
	if want := []string{"c", "e"}; !slices.Equal(got, want) || calls+1 != 2 {
		t.Errorf("scan = %q in %d calls; want %q in 2", got, calls+1, want)
	}
	boom := errors.New("boom")
	_, err := scanShards(len(shards), 0, func(int, uint64) (uint64, []fsm.Reply, *fsm.Reply, error) {
		return 0, nil, nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("scanShards error = %v; want %v", err, boom)
	}
}

// TestClusterForget: CLUSTER FORGET names a node by its hex ID or its
// node ID and hands that node ID to Backend.Forget; an unknown ID answers
// Redis's error and drains nothing.
func TestClusterForget(t *testing.T) {
	ts := startServer(t, Config{})
	setTopology(ts.b, Topology{MyID: "a", Nodes: []TopologyNode{{ID: "a", Up: true}, {ID: "b", Up: true}, {ID: "c"}}})
	c := dial(t, ts.addr)
	for _, tc := range []struct{ arg, want string }{
		{hexID("b"), "+OK\r\n"},
		{"c", "+OK\r\n"},
		{"nobody", "-ERR Unknown node nobody\r\n"},
	} {
		if got := c.do("CLUSTER", "FORGET", tc.arg); got != tc.want {
			t.Errorf("CLUSTER FORGET %s = %q; want %q", tc.arg, got, tc.want)
		}
	}
	ts.b.mu.Lock()
	defer ts.b.mu.Unlock()
	if !slices.Equal(ts.b.forgotten, []string{"b", "c"}) {
		t.Errorf("Forget calls %v; want [b c]", ts.b.forgotten)
	}
}
