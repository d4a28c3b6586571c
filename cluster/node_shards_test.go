package cluster

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

const testShards = 4

func testNodeConfig(dir string, shards int) NodeConfig {
	return NodeConfig{NodeID: "n1", DataDir: dir, Shards: shards, RaftAddr: "127.0.0.1:0",
		HeartbeatTimeout: testElection, ElectionTimeout: testElection, LeaderLeaseTimeout: testElection / 2,
		Logger: testLogger()}
}

// openNode opens a node and waits until every shard is ready.
func openNode(t *testing.T, cfg NodeConfig) *Node {
	t.Helper()
	n, err := OpenNode(cfg)
	if err != nil {
		t.Fatalf("OpenNode: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return n
}

// keyPerShard returns one key per shard of a testShards layout.
func keyPerShard(t *testing.T) []string {
	t.Helper()
	l, _ := NewLayout(testShards)
	keys := make([]string, testShards)
	found := 0
	for i := 0; found < testShards && i < 1000; i++ {
		k := fmt.Sprintf("key%d", i)
		if sh := l.ShardOfSlot(fsm.KeySlot([]byte(k))); keys[sh] == "" {
			keys[sh] = k
			found++
		}
	}
	if found < testShards {
		t.Fatalf("found keys for %d of %d shards", found, testShards)
	}
	return keys
}

// xlenPerShard returns XLEN key as each shard sees it.
func xlenPerShard(t *testing.T, n *Node, key string) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	out := make([]int64, n.Shards())
	for i := range out {
		r, err := n.ReadShard(ctx, i, func(m *fsm.Machine) fsm.Reply { return m.Read(argv("XLEN", key), 0) })
		if err != nil {
			t.Fatalf("ReadShard(%d, XLEN %s): %v", i, key, err)
		}
		out[i] = r.Int
	}
	return out
}

// wantOnlyIn is the XLEN per shard of a key with count entries in shard.
func wantOnlyIn(shards, shard int, count int64) []int64 {
	w := make([]int64, shards)
	w[shard] = count
	return w
}

// TestNodeRoutesBySlot: a 4-shard node puts each key in the shard owning
// its slot, keys sharing a hash tag together, and keeps that across a
// restart; a restart with another shard count is refused.
func TestNodeRoutesBySlot(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testNodeConfig(dir, testShards))
	if got := n.Shards(); got != testShards {
		t.Fatalf("Shards() = %d; want %d", got, testShards)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	keys := keyPerShard(t)
	tagged := []string{"{user7}.in", "{user7}.out", "x{user7}"}
	for _, k := range append(append([]string{}, keys...), tagged...) {
		if r, err := n.Write(ctx, []byte(k), cmd("XADD", k, "1-1", "f", k)); err != nil || show(r) != `"1-1"` {
			t.Fatalf("Write(XADD %s) = %s, %v; want \"1-1\"", k, show(r), err)
		}
	}
	for sh, k := range keys {
		if got, want := xlenPerShard(t, n, k), wantOnlyIn(testShards, sh, 1); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("XLEN %s per shard = %v; want %v (slot %d)", k, got, want, fsm.KeySlot([]byte(k)))
		}
	}
	tagShard := n.ShardOfSlot(fsm.KeySlot([]byte("user7")))
	for _, k := range tagged {
		if got, want := xlenPerShard(t, n, k), wantOnlyIn(testShards, tagShard, 1); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("XLEN %s per shard = %v; want %v (hash tag user7)", k, got, want)
		}
	}
	st := n.Status()
	if len(st.Shards) != testShards || !st.Ready || st.Shards[1].SlotLo != 4096 || st.Shards[1].SlotHi != 8191 {
		t.Errorf("Status() = %+v; want 4 ready shards, shard 1 owning 4096-8191", st)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for _, shards := range []int{2, 0, 16} {
		if n2, err := OpenNode(testNodeConfig(dir, shards)); err == nil || !strings.Contains(err.Error(), "holds 4 shards") {
			if n2 != nil {
				_ = n2.Close()
			}
			t.Errorf("reopen with %d shards = %v; want an error saying the data dir holds 4 shards", shards, err)
		}
	}

	n = openNode(t, testNodeConfig(dir, testShards))
	for sh, k := range keys {
		if got, want := xlenPerShard(t, n, k), wantOnlyIn(testShards, sh, 1); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after restart: XLEN %s per shard = %v; want %v", k, got, want)
		}
		r, err := n.Read(ctx, []byte(k), func(m *fsm.Machine) fsm.Reply { return m.Read(argv("XRANGE", k, "-", "+"), 0) })
		if want := fmt.Sprintf(`[6:[6:"1-1" [6:"f" %q]]]`, k); err != nil || show(r) != want {
			t.Errorf("after restart: Read(XRANGE %s) = %s, %v; want %s", k, show(r), err, want)
		}
	}
}

// TestNodeKeylessAndWatch: a nil key goes to shard 0; WriteShard reaches
// the shard named; Watch follows the key's shard.
func TestNodeKeylessAndWatch(t *testing.T) {
	n := openNode(t, testNodeConfig(t.TempDir(), testShards))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	keys := keyPerShard(t)
	k3 := keys[3]
	woken, cancelWatch := n.Watch([]byte(k3), []string{k3})
	defer cancelWatch()
	if _, err := n.WriteShard(ctx, 3, cmd("XADD", k3, "1-1", "f", "v")); err != nil {
		t.Fatalf("WriteShard(3): %v", err)
	}
	select {
	case <-woken:
	case <-time.After(opTimeout):
		t.Errorf("watcher of %s (shard 3) not woken by a write to shard 3", k3)
	}
	if _, err := n.Write(ctx, nil, cmd("XADD", keys[2], "1-1", "f", "v")); err != nil {
		t.Fatalf("Write(nil key): %v", err)
	}
	if got, want := xlenPerShard(t, n, keys[2]), wantOnlyIn(testShards, 0, 1); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a nil-key write landed as %v; want %v (shard 0)", got, want)
	}
}

// TestLoneVoterElectsAtOnce: with Raft's default timeouts (a follower
// waits 1-2 s before an election) a lone voter still leads well under 1 s,
// every shard of a node in parallel.
func TestLoneVoterElectsAtOnce(t *testing.T) {
	const fast = 900 * time.Millisecond // below Raft's 1 s minimum wait
	cfg := NodeConfig{NodeID: "n1", DataDir: t.TempDir(), Shards: testShards, RaftAddr: "127.0.0.1:0", Logger: testLogger()}
	n, err := OpenNode(cfg)
	if err != nil {
		t.Fatalf("OpenNode: %v", err)
	}
	defer n.Close()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if d := time.Since(start); d > fast {
		t.Errorf("4 lone-voter shards ready after %v; want under %v", d, fast)
	}
}

// TestNodeRaftPortShared: all shards use the one listener given.
func TestNodeRaftPortShared(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg := testNodeConfig(t.TempDir(), testShards)
	cfg.RaftListener = ln
	n := openNode(t, cfg)
	for _, s := range n.Status().Shards {
		if s.LeaderAddr != ln.Addr().String() {
			t.Errorf("shard %s leader address %q; want the one Raft port %s", s.ID, s.LeaderAddr, ln.Addr())
		}
	}
}

// TestNodeCloseLeavesNoGoroutines: a 4-shard node's Close stops every
// shard's Raft, transport and mux goroutine.
func TestNodeCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	n, err := OpenNode(testNodeConfig(t.TempDir(), testShards))
	if err != nil {
		t.Fatalf("OpenNode: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if _, err := n.Write(ctx, []byte("s"), cmd("XADD", "s", "*", "f", "v")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitFor(t, readyTimeout, "goroutines back to the count before OpenNode", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
