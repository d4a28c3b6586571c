package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/fsm"
)

// TestCrashRecoveryShards: kill -9 a 4-shard server mid-load (streams
// crash0-crash3, which hash to the four different shards), restart it and
// find every acknowledged entry; a restart with another --shards is
// refused with a message naming what the data dir holds.
func TestCrashRecoveryShards(t *testing.T) {
	const shards = 4
	layout, err := cluster.NewLayout(shards)
	if err != nil {
		t.Fatalf("NewLayout: %v", err)
	}
	spread := map[int]bool{}
	for i := range crashStreams {
		spread[layout.ShardOfSlot(fsm.KeySlot(fmt.Appendf(nil, "crash%d", i)))] = true
	}
	if len(spread) != shards {
		t.Fatalf("the %d crash streams hash to %d shards; want %d (pick other names)", crashStreams, len(spread), shards)
	}

	s := newCrashServer(t)
	s.shards = shards
	s.start(t)
	c := s.client()
	var a acked
	stop := make(chan struct{})
	var once sync.Once
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		load(t, c, &a, stop)
	}()
	waitAcked(t, &a, 2000)
	s.signal(t, syscall.SIGKILL)
	once.Do(func() { close(stop) })
	<-loaded
	c.Close()
	t.Logf("%d entries acknowledged before kill -9", a.count())

	s.start(t)
	for _, sh := range s.status(t).Shards {
		// Bootstrap configuration, barrier, then this shard's writes.
		if sh.AppliedIndex < 10 {
			t.Errorf("after restart shard %s (slots %d-%d) applied index %d; want the load spread over every shard",
				sh.ID, sh.SlotLo, sh.SlotHi, sh.AppliedIndex)
		}
	}
	c = s.client()
	defer c.Close()
	verify(t, c, &a)
	ctx, cancel := context.WithTimeout(context.Background(), crashOpTimeout)
	defer cancel()
	if _, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "crash2", Values: []string{"after", "restart"}}).Result(); err != nil {
		t.Errorf("XADD after restart: %v", err)
	}
	s.signal(t, syscall.SIGTERM)

	// Bounded: if the refusal were missing, the server would run forever.
	ctx, cancel = context.WithTimeout(context.Background(), crashStartTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.bin, "--node-id", "crash1", "--data-dir", s.dir, "--addr", s.addr,
		"--raft-addr", s.raftAddr, "--http-addr", s.httpAddr, "--shards", "2").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "holds 4 shards") {
		t.Errorf("restart with --shards 2 = %v\n%s\nwant a refusal saying the data dir holds 4 shards", err, out)
	}
}
