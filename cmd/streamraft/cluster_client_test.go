package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/fsm"
)

// TestClusterClient: go-redis's ClusterClient, seeded with one node, learns
// the topology from CLUSTER SLOTS (this node owns every slot) and runs
// XADD, XGROUP CREATE, XREADGROUP, XACK and XRANGE over 200 keys spread
// over the slots of a --shards 4 node; then redis-cli -c writes a key.
func TestClusterClient(t *testing.T) {
	const nkeys = 200
	bin := buildBinary(t)
	addr, raftAddr := freeAddr(t), freeAddr(t)
	startProcess(t, "streamraft", addr, bin, "--addr", addr, "--raft-addr", raftAddr,
		"--http-addr", freeAddr(t), "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--shards", "4", "--log-level", "warn")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	defer cc.Close()

	checkSlots(ctx, t, cc, addr)
	slots := map[int]bool{}
	for i := range nkeys {
		k := fmt.Sprintf("cc%d", i)
		slots[fsm.KeySlot([]byte(k))] = true
		clusterRoundTrip(ctx, t, cc, k)
	}
	if len(slots) < nkeys/2 {
		t.Errorf("the %d keys hit %d slots; want them spread (at least %d)", nkeys, len(slots), nkeys/2)
	}
	if n, err := cc.DBSize(ctx).Result(); err != nil || n != nkeys {
		t.Errorf("DBSIZE: got %d, %v; want %d", n, err, nkeys)
	}
	redisCLICluster(t, addr)
}

// checkSlots: CLUSTER SLOTS (what go-redis loads its topology from) and
// CLUSTER SHARDS, parsed by go-redis, show one node at addr owning 0-16383.
func checkSlots(ctx context.Context, t *testing.T, cc *redis.ClusterClient, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	slots, err := cc.Do(ctx, "CLUSTER", "SLOTS").Slice()
	want := fmt.Sprintf("[[0 16383 [%s %s", host, port)
	if got := fmt.Sprint(slots); err != nil || !strings.HasPrefix(got, want) || len(slots) != 1 {
		t.Fatalf("CLUSTER SLOTS: got %s, %v; want one row %s ...", got, err, want)
	}
	shards, err := cc.ClusterShards(ctx).Result()
	if err != nil || len(shards) != 1 || len(shards[0].Slots) != 1 || shards[0].Slots[0].End != fsm.SlotCount-1 ||
		len(shards[0].Nodes) != 1 || shards[0].Nodes[0].IP != host || fmt.Sprint(shards[0].Nodes[0].Port) != port {
		t.Fatalf("CLUSTER SHARDS: got %+v, %v; want one shard of 0-16383 on %s", shards, err, addr)
	}
}

// clusterRoundTrip writes key through cc, reads it as a group consumer,
// acknowledges it and ranges over it.
func clusterRoundTrip(ctx context.Context, t *testing.T, cc *redis.ClusterClient, k string) {
	t.Helper()
	id, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []string{"k", k}}).Result()
	if err != nil {
		t.Fatalf("XADD %s: %v", k, err)
	}
	if err := cc.XGroupCreate(ctx, k, "g", "0").Err(); err != nil {
		t.Fatalf("XGROUP CREATE %s: %v", k, err)
	}
	streams, err := cc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c",
		Streams: []string{k, ">"}, Count: 10}).Result()
	if err != nil || len(streams) != 1 || len(streams[0].Messages) != 1 || streams[0].Messages[0].ID != id {
		t.Fatalf("XREADGROUP %s: got %+v, %v; want the one entry %s", k, streams, err, id)
	}
	if n, err := cc.XAck(ctx, k, "g", id).Result(); err != nil || n != 1 {
		t.Fatalf("XACK %s %s: got %d, %v; want 1", k, id, n, err)
	}
	msgs, err := cc.XRange(ctx, k, "-", "+").Result()
	if err != nil || len(msgs) != 1 || msgs[0].Values["k"] != k {
		t.Fatalf("XRANGE %s: got %+v, %v; want one entry k=%s", k, msgs, err, k)
	}
}

// redisCLICluster: `redis-cli -c` adds an entry and reads it back.
func redisCLICluster(t *testing.T, addr string) {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-cli not found on CI: %v", err)
		}
		t.Skip("redis-cli not installed")
	}
	host, port, _ := net.SplitHostPort(addr)
	run := func(args ...string) string {
		out, err := exec.Command(cli, append([]string{"-c", "-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli -c %q: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	id := run("XADD", "clikey", "*", "a", "b")
	if !strings.Contains(id, "-") {
		t.Fatalf("redis-cli -c XADD clikey * a b: got %q; want an entry id", id)
	}
	if got := run("XLEN", "clikey"); got != "1" {
		t.Errorf("redis-cli -c XLEN clikey: got %q; want 1", got)
	}
	if got := run("CLUSTER", "INFO"); !strings.Contains(got, "cluster_state:ok") {
		t.Errorf("redis-cli CLUSTER INFO: got %q; want cluster_state:ok", got)
	}
}
