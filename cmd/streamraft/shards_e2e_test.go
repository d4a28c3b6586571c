package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/fsm"
)

// TestShardsEndToEnd: the binary with --shards 4 answers the keyless
// commands over every shard (DBSIZE, KEYS, SCAN, FLUSHALL), CROSSSLOT for
// an XREAD over two slots, a MULTI over one hash tag, and CLUSTER KEYSLOT.
func TestShardsEndToEnd(t *testing.T) {
	const shards, nkeys = 4, 40
	bin := buildBinary(t)
	addr := freeAddr(t)
	startProcess(t, "streamraft", addr, bin, "--addr", addr, "--raft-addr", freeAddr(t),
		"--http-addr", freeAddr(t), "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--shards", fmt.Sprint(shards), "--log-level", "warn")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	layout, err := cluster.NewLayout(shards)
	if err != nil {
		t.Fatalf("NewLayout: %v", err)
	}
	perShard := map[int]int{}
	for i := range nkeys {
		k := fmt.Sprintf("e2e%d", i)
		perShard[layout.ShardOfSlot(fsm.KeySlot([]byte(k)))]++
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: "1-1", Values: []string{"f", "v"}}).Err(); err != nil {
			t.Fatalf("XADD %s: %v", k, err)
		}
	}
	if len(perShard) != shards {
		t.Fatalf("the %d keys hash to %d shards; want %d (pick other names)", nkeys, len(perShard), shards)
	}

	if n, err := c.DBSize(ctx).Result(); err != nil || n != nkeys {
		t.Errorf("DBSIZE = %d, %v; want %d", n, err, nkeys)
	}
	if keys, err := c.Keys(ctx, "e2e*").Result(); err != nil || len(keys) != nkeys {
		t.Errorf("KEYS e2e* = %d keys, %v; want %d", len(keys), err, nkeys)
	}
	seen := map[string]bool{}
	iter := c.Scan(ctx, 0, "", 3).Iterator()
	for iter.Next(ctx) {
		seen[iter.Val()] = true
	}
	if err := iter.Err(); err != nil || len(seen) != nkeys {
		t.Errorf("SCAN COUNT 3 = %d keys, %v; want %d", len(seen), err, nkeys)
	}

	rc, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rawTests := []struct {
		argv []string
		want string
	}{
		{[]string{"XREAD", "STREAMS", "e2e0", "e2e1", "0", "0"}, "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "foo"}, ":12182\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "{user1000}.following"}, ":3443\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "123456789"}, ":12739\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"XADD", "{tx}a", "1-1", "f", "v"}, "+QUEUED\r\n"},
		{[]string{"XADD", "{tx}b", "1-1", "f", "v"}, "+QUEUED\r\n"},
		{[]string{"XLEN", "{tx}a"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*3\r\n$3\r\n1-1\r\n$3\r\n1-1\r\n:1\r\n"},
	}
	for _, tt := range rawTests {
		got, err := rc.do(tt.argv, 10*time.Second)
		if err != nil || string(got) != tt.want {
			t.Errorf("%q = %q, %v; want %q", tt.argv, got, err, tt.want)
		}
	}

	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("DBSIZE after FLUSHALL = %d, %v; want 0", n, err)
	}
	if keys, err := c.Keys(ctx, "*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("KEYS * after FLUSHALL = %q, %v; want none", keys, err)
	}
}
