package resp

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/fsm"
)

const crossSlotReply = "-CROSSSLOT Keys in request don't hash to the same slot\r\n"

// addKeys XADDs n streams k0..k(n-1) and checks every shard got some.
func addKeys(t *testing.T, ts *testServer, n int) []string {
	t.Helper()
	c := dial(t, ts.addr)
	var keys []string
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if got := c.do("XADD", k, "1-1", "f", "v"); got != "$3\r\n1-1\r\n" {
			t.Fatalf("XADD %s = %q; want 1-1", k, got)
		}
		keys = append(keys, k)
	}
	for i, m := range ts.b.ms {
		if r := m.Read([][]byte{[]byte("DBSIZE")}, 0); r.Int == 0 {
			t.Fatalf("shard %d got no key of %d", i, n)
		}
	}
	return keys
}

// TestShardedKeyless: DBSIZE, KEYS, INFO keyspace and FLUSHALL/FLUSHDB see
// every shard.
func TestShardedKeyless(t *testing.T) {
	needStreams(t)
	for _, flush := range []string{"FLUSHALL", "FLUSHDB"} {
		ts := startShardedServer(t, Config{}, 4)
		keys := addKeys(t, ts, 100)
		c := dial(t, ts.addr)
		if got := c.do("DBSIZE"); got != ":100\r\n" {
			t.Errorf("DBSIZE = %q; want :100", got)
		}
		got := c.do("KEYS", "*")
		if !strings.HasPrefix(got, "*100\r\n") {
			t.Errorf("KEYS * = %.40q...; want 100 keys", got)
		}
		for _, k := range keys {
			if !strings.Contains(got, "\r\n"+k+"\r\n") {
				t.Errorf("KEYS * lacks %s", k)
			}
		}
		if got := c.do("KEYS", "k1?"); !strings.HasPrefix(got, "*10\r\n") {
			t.Errorf("KEYS k1? = %.40q...; want 10 keys", got)
		}
		if got := c.do("INFO", "keyspace"); !strings.Contains(got, "db0:keys=100,") {
			t.Errorf("INFO keyspace = %q; want db0:keys=100", got)
		}
		if got := c.do(flush); got != "+OK\r\n" {
			t.Errorf("%s = %q; want +OK", flush, got)
		}
		for i, m := range ts.b.ms {
			if r := m.Read([][]byte{[]byte("DBSIZE")}, 0); r.Int != 0 {
				t.Errorf("after %s shard %d holds %d keys; want 0", flush, i, r.Int)
			}
		}
		if got := c.do(flush, "bad"); got != "-ERR syntax error\r\n" {
			t.Errorf("%s bad = %q; want syntax error", flush, got)
		}
	}
}

// scanAll runs a whole SCAN with go-redis, calling during(i) before the
// i-th call, and returns every key returned.
func scanAll(t *testing.T, rdb *redis.Client, count int64, during func(i int)) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]int{}
	cursor := uint64(0)
	for i := 0; ; i++ {
		if i > 10_000 {
			t.Fatalf("SCAN did not end after %d calls", i)
		}
		during(i)
		keys, next, err := rdb.Scan(ctx, cursor, "", count).Result()
		if err != nil {
			t.Fatalf("SCAN %d: %v", cursor, err)
		}
		for _, k := range keys {
			seen[k]++
		}
		if next == 0 {
			return seen
		}
		cursor = next
	}
}

// TestShardedScan: a SCAN returns every key present for the whole scan,
// with keys added and deleted while it runs, on 1 to 5 shards.
func TestShardedScan(t *testing.T) {
	needStreams(t)
	tests := []struct {
		shards int
		count  int64
	}{{1, 10}, {2, 1}, {3, 7}, {4, 1}, {4, 10}, {5, 1000}}
	for _, tt := range tests {
		name := fmt.Sprintf("%d shards COUNT %d", tt.shards, tt.count)
		ts := startShardedServer(t, Config{}, tt.shards)
		keys := addKeys(t, ts, 60)
		rdb := redis.NewClient(&redis.Options{Addr: ts.addr})
		seen := scanAll(t, rdb, tt.count, func(int) {})
		if len(seen) != len(keys) {
			t.Errorf("%s: SCAN returned %d keys; want %d", name, len(seen), len(keys))
		}
		// Churn: delete k40..k59 and add n0..n39 while scanning.
		c := dial(t, ts.addr)
		seen = scanAll(t, rdb, tt.count, func(i int) {
			if i < 20 {
				c.do("DEL", "k"+strconv.Itoa(40+i))
			}
			if i < 40 {
				c.do("XADD", "n"+strconv.Itoa(i), "1-1", "f", "v")
			}
		})
		for _, k := range keys[:40] {
			if seen[k] == 0 {
				t.Errorf("%s: SCAN with churn missed %s, present throughout", name, k)
			}
		}
		_ = rdb.Close()
	}
}

// TestShardedScanCursor: cursors from outside the shards end the scan; a
// bad cursor is an error.
func TestShardedScanCursor(t *testing.T) {
	ts := startShardedServer(t, Config{}, 3) // k = 2 bits: shard 3 does not exist
	c := dial(t, ts.addr)
	tests := []struct{ cursor, want string }{
		{strconv.FormatUint(3<<62, 10), "*2\r\n$1\r\n0\r\n*0\r\n"},
		// shard 1 is empty: its end is shard 2's start
		{strconv.FormatUint(1<<62, 10), "*2\r\n$19\r\n9223372036854775808\r\n*0\r\n"},
		{strconv.FormatUint(2<<62, 10), "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"x", "-ERR invalid cursor\r\n"},
	}
	for _, tt := range tests {
		if got := c.do("SCAN", tt.cursor); got != tt.want {
			t.Errorf("SCAN %s = %q; want %q", tt.cursor, got, tt.want)
		}
	}
}

// TestCrossSlot: multi-key commands whose keys span slots answer CROSSSLOT
// on a sharded node, never on a one-shard node.
func TestCrossSlot(t *testing.T) {
	tests := []struct {
		argv          []string
		sharded, once string // the reply with 4 shards, with 1
	}{
		{[]string{"DEL", "a", "b"}, crossSlotReply, ":0\r\n"},
		{[]string{"UNLINK", "a", "b"}, crossSlotReply, ":0\r\n"},
		{[]string{"EXISTS", "a", "b"}, crossSlotReply, ":0\r\n"},
		{[]string{"XREAD", "STREAMS", "a", "b", "0", "0"}, crossSlotReply, "*-1\r\n"},
		{[]string{"WATCH", "a", "b"}, crossSlotReply, "+OK\r\n"},
		{[]string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"}, crossSlotReply,
			"-NOGROUP No such key 'a' or consumer group 'g' in XREADGROUP with GROUP option\r\n"},
		{[]string{"XREAD", "BLOCK", "10", "STREAMS", "a", "b", "$", "$"}, crossSlotReply, "*-1\r\n"},
		{[]string{"DEL", "{a}1", "{a}2", "a"}, ":0\r\n", ":0\r\n"},
		{[]string{"XREAD", "STREAMS", "{a}1", "{a}2", "0", "0"}, "*-1\r\n", "*-1\r\n"},
		{[]string{"DEL", "a"}, ":0\r\n", ":0\r\n"},
	}
	sharded := dial(t, startShardedServer(t, Config{}, 4).addr)
	single := dial(t, startServer(t, Config{}).addr)
	for _, tt := range tests {
		if got := sharded.do(tt.argv...); got != tt.sharded {
			t.Errorf("4 shards: %q = %q; want %q", tt.argv, got, tt.sharded)
		}
		if got := single.do(tt.argv...); got != tt.once {
			t.Errorf("1 shard: %q = %q; want %q", tt.argv, got, tt.once)
		}
		single.do("UNWATCH")
	}
}

// TestCrossSlotMulti: a queued command with keys in several slots dooms
// the transaction (EXECABORT); commands in different slots make EXEC
// answer CROSSSLOT and discard it, as Redis 7.0 Cluster; so do WATCHed
// keys outside the transaction's slot (a streamraft rule).
func TestCrossSlotMulti(t *testing.T) {
	needStreams(t)
	tests := []struct {
		name          string
		cmds          [][]string
		sharded, once string
	}{
		{"two slots", [][]string{{"MULTI"}, {"DEL", "a"}, {"DEL", "b"}, {"EXEC"}, {"EXEC"}},
			"+OK\r\n+QUEUED\r\n+QUEUED\r\n" + crossSlotReply + "-ERR EXEC without MULTI\r\n",
			"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:0\r\n:0\r\n-ERR EXEC without MULTI\r\n"},
		{"cross-slot command", [][]string{{"MULTI"}, {"DEL", "a", "b"}, {"EXEC"}},
			"+OK\r\n" + crossSlotReply + "-EXECABORT Transaction discarded because of previous errors.\r\n",
			"+OK\r\n+QUEUED\r\n*1\r\n:0\r\n"},
		{"watch other slot", [][]string{{"WATCH", "a"}, {"MULTI"}, {"DEL", "b"}, {"EXEC"}},
			"+OK\r\n+OK\r\n+QUEUED\r\n" + crossSlotReply,
			"+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:0\r\n"},
		{"one hash tag", [][]string{{"WATCH", "{t}w"}, {"MULTI"}, {"XADD", "{t}1", "1-1", "f", "v"}, {"XLEN", "{t}1"}, {"PING"}, {"DEL", "{t}2"}, {"EXEC"}},
			"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n$3\r\n1-1\r\n:1\r\n+PONG\r\n:0\r\n",
			"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n$3\r\n1-1\r\n:1\r\n+PONG\r\n:0\r\n"},
	}
	for _, tt := range tests {
		for _, shards := range []int{4, 1} {
			c := dial(t, startShardedServer(t, Config{}, shards).addr)
			var got strings.Builder
			for _, argv := range tt.cmds {
				got.WriteString(c.do(argv...))
			}
			want := tt.sharded
			if shards == 1 {
				want = tt.once
			}
			if got.String() != want {
				t.Errorf("%s, %d shards: got %q; want %q", tt.name, shards, got.String(), want)
			}
		}
	}
}

// TestClusterCommands: CLUSTER KEYSLOT (REDIS.md §4.1's observed values),
// COUNTKEYSINSLOT, GETKEYSINSLOT, MYID, HELP and their errors as Redis 7.0.
func TestClusterCommands(t *testing.T) {
	needStreams(t)
	ts := startShardedServer(t, Config{NodeID: "node-a"}, 4)
	c := dial(t, ts.addr)
	for _, k := range []string{"{user1000}.following", "{user1000}.followers", "foo"} {
		c.do("XADD", k, "1-1", "f", "v")
	}
	sum := sha1.Sum([]byte("node-a"))
	myID := hex.EncodeToString(sum[:])
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"CLUSTER", "KEYSLOT", "foo"}, ":12182\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "{user1000}.following"}, ":3443\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "foo{}{bar}"}, ":8363\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "foo{{bar}}zap"}, ":4015\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "foo{bar}{zap}"}, ":5061\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", ""}, ":0\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "123456789"}, ":12739\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "a"}, ":15495\r\n"},
		{[]string{"CLUSTER", "KEYSLOT"}, "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "3443"}, ":2\r\n"},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "12182"}, ":1\r\n"},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "5"}, ":0\r\n"},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "16384"}, "-ERR Invalid slot\r\n"},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "-1"}, "-ERR Invalid slot\r\n"},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "12182", "10"}, "*1\r\n$3\r\nfoo\r\n"},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "3443", "1"}, "*1\r\n"},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "3443", "0"}, "*0\r\n"},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "5", "-1"}, "-ERR Invalid slot or number of keys\r\n"},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "-1", "5"}, "-ERR Invalid slot or number of keys\r\n"},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "16384", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"CLUSTER", "MYID"}, "$40\r\n" + myID + "\r\n"},
		{[]string{"CLUSTER", "MYID", "x"}, "-ERR wrong number of arguments for 'cluster|myid' command\r\n"},
		{[]string{"CLUSTER", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"},
		{[]string{"CLUSTER"}, "-ERR wrong number of arguments for 'cluster' command\r\n"},
	}
	for _, tt := range tests {
		got := c.do(tt.argv...)
		if tt.want == "*1\r\n" { // one key of the slot, either
			if !strings.HasPrefix(got, tt.want+"$20\r\n{user1000}.follow") {
				t.Errorf("%q = %q; want one {user1000} key", tt.argv, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%q = %q; want %q", tt.argv, got, tt.want)
		}
	}
	help := c.do("CLUSTER", "HELP")
	for _, want := range []string{"*21\r\n+CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n", "+KEYSLOT <key>\r\n+    Return the hash slot for <key>.\r\n", "+HELP\r\n+    Prints this help.\r\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("CLUSTER HELP = %q; want it to contain %q", help, want)
		}
	}
}

// TestScanShardsProgress: shard cursors (key hashes) that truncate to the
// same client cursor make scanShards keep scanning, so a scan ends and
// returns every key; fake shards hold keys at the given hashes, and each
// shard SCAN call returns one key.
func TestScanShardsProgress(t *testing.T) {
	tests := []struct {
		name   string
		shards [][]uint64 // each shard's key hashes, ascending
	}{
		{"tiny hashes", [][]uint64{{1, 2, 3}, {5, 6}, {}, {1, 1<<62 + 1}}},
		{"shared top bits", [][]uint64{{1 << 40, 1<<40 + 1, 1<<40 + 2, 1<<40 + 3}, {7}}},
		{"spread", [][]uint64{{10, 1 << 20, 1 << 50, 1 << 63}, {1 << 63, 1<<63 + 1<<62}, {3}}},
	}
	for _, tt := range tests {
		scan := func(shard int, inner uint64) (uint64, []fsm.Reply, *fsm.Reply, error) {
			hs := tt.shards[shard]
			for i, h := range hs {
				if h < inner {
					continue
				}
				next := uint64(0)
				if i+1 < len(hs) {
					next = hs[i+1]
				}
				return next, []fsm.Reply{fsm.BulkString(fmt.Sprintf("%d/%d", shard, h))}, nil, nil
			}
			return 0, nil, nil, nil
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		for calls := 0; ; calls++ {
			if calls > 100 {
				t.Fatalf("%s: scan did not end", tt.name)
			}
			r, err := scanShards(len(tt.shards), cursor, scan)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			for _, k := range r.Elems[1].Elems {
				seen[string(k.Bulk)] = true
			}
			next, _ := strconv.ParseUint(string(r.Elems[0].Bulk), 10, 64)
			if next == 0 {
				break
			}
			if next <= cursor {
				t.Fatalf("%s: cursor went from %d to %d; want it to grow", tt.name, cursor, next)
			}
			cursor = next
		}
		for s, hs := range tt.shards {
			for _, h := range hs {
				if k := fmt.Sprintf("%d/%d", s, h); !seen[k] {
					t.Errorf("%s: scan missed %s", tt.name, k)
				}
			}
		}
	}
}
