package clustertest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster/clustertest"
	"github.com/streamraft/streamraft/fsm"
)

// keyOnShard returns a key whose slot is in shard i of n nodes' layout.
func keyOnShard(t *testing.T, nd *clustertest.Node, shard int, prefix string) string {
	t.Helper()
	sh := nd.Srv.Node().Status().Shards
	for _, s := range sh {
		if s.ID != fmt.Sprint(shard) {
			continue
		}
		for i := 0; ; i++ {
			k := fmt.Sprintf("%s-%d", prefix, i)
			if slot := fsm.KeySlot([]byte(k)); slot >= s.SlotLo && slot <= s.SlotHi {
				return k
			}
		}
	}
	t.Fatalf("%s holds no replica of shard %d", nd.ID, shard)
	return ""
}

// truncateHalf cuts a file to half its size: a torn or lost tail.
func truncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedReplicaRebuilt: a node whose replica's log file is damaged
// (cut to half) does not crash at start: it moves the replica aside under
// damaged/ (deleting nothing), and rebuilds it from the shard's other
// replicas, as a non-voter first.
func TestDamagedReplicaRebuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 3, 2)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(3) })
	victim := c.Node("n3")
	key := keyOnShard(t, victim, 0, "damaged")
	cc := c.Client()
	var acked clustertest.AckLog
	for i := range 300 {
		id, err := cc.XAdd(context.Background(), &redis.XAddArgs{Stream: key, Values: []string{"i", fmt.Sprint(i)}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		acked.Add(key, id)
	}
	c.WaitUntil("n3 caught up", c.CaughtUp())
	c.Kill(victim)
	truncateHalf(t, filepath.Join(victim.Cfg.DataDir, "shards", "0", "raft.db"))
	c.Restart(victim, false)
	c.WaitUntil("the damaged replica set aside", func() string {
		if got := victim.Srv.Node().Status().RebuiltReplicas; got != 1 {
			return fmt.Sprintf("rebuilt_replicas %d", got)
		}
		return ""
	})
	aside, _ := filepath.Glob(filepath.Join(victim.Cfg.DataDir, "damaged", "shard-0-*", "raft.db"))
	if len(aside) != 1 {
		t.Errorf("damaged/ holds %v; want the damaged replica's raft.db, kept", aside)
	}
	c.WaitUntil("n3 rebuilt", func() string {
		if s := c.Settled(3); s != "" {
			return s
		}
		return c.Rebuilt(victim)
	})
	c.WaitUntil("n3 caught up again", c.CaughtUp())
	clustertest.CheckAcked(t, c.Client(), &acked)
}

// TestDamagedOnlyCopyRefused: a one-node cluster whose shard replica is
// damaged holds the only copy: the node refuses to start, naming the file
// and the way out, instead of crashing at every start. Following the way
// out (moving the replica away) starts it again, that shard empty and the
// other intact.
func TestDamagedOnlyCopyRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 1, 2)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(1) })
	nd := c.Node("n1")
	lost, kept := keyOnShard(t, nd, 0, "lost"), keyOnShard(t, nd, 1, "kept")
	cc := c.Client()
	for _, k := range []string{lost, kept} {
		if err := cc.XAdd(context.Background(), &redis.XAddArgs{Stream: k, ID: "1-1", Values: []string{"f", "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Kill(nd)
	db := filepath.Join(nd.Cfg.DataDir, "shards", "0", "raft.db")
	truncateHalf(t, db)
	err := c.Start(nd)
	if err == nil {
		t.Fatal("a node whose only copy of a shard is damaged started")
	}
	for _, want := range []string{db, "streamraft check --data-dir " + nd.Cfg.DataDir, "only copy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error %q does not mention %q", err, want)
		}
	}
	if err := os.Rename(filepath.Join(nd.Cfg.DataDir, "shards", "0"), filepath.Join(t.TempDir(), "shard-0")); err != nil {
		t.Fatal(err)
	}
	c.Restart(nd, false)
	cc = c.Client()
	if n, err := cc.XLen(context.Background(), lost).Result(); err != nil || n != 0 {
		t.Errorf("XLEN %s on the re-formed shard = %d, %v; want 0", lost, n, err)
	}
	if n, err := cc.XLen(context.Background(), kept).Result(); err != nil || n != 1 {
		t.Errorf("XLEN %s on the intact shard = %d, %v; want 1", kept, n, err)
	}
}

// TestDiskFull: a node whose disk is full (every write fails with ENOSPC)
// stops acknowledging and the others go on: the shard's leader steps down,
// another replica leads, writes keep being acknowledged; the node does not
// crash (hashicorp/raft panics when it cannot save its term, which a
// failing disk made it do) and catches up once writes succeed again.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 3, 1)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(3) })
	const key = "disk"
	full := c.LeaderOf(key)
	cc := c.Client()
	var acked clustertest.AckLog
	write := func(n int) {
		t.Helper()
		for i := 0; i < n; {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			id, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"i", fmt.Sprint(i)}}).Result()
			cancel()
			if err == nil {
				acked.Add(key, id)
				i++
			}
		}
	}
	write(50)
	full.FailDisk(syscall.ENOSPC)
	write(200) // through another leader
	c.WaitUntil(full.ID+" reports its disk error", func() string {
		st := full.Srv.Node().Status().Shards[0]
		if st.Leader {
			return full.ID + " still leads"
		}
		if !strings.Contains(st.DiskError, "no space left on device") {
			return fmt.Sprintf("disk_error %q", st.DiskError)
		}
		return ""
	})
	full.FailDisk(nil)
	write(50)
	c.WaitUntil("all replicas caught up", c.CaughtUp())
	c.WaitUntil("settled", func() string { return c.Settled(3) })
	clustertest.CheckAcked(t, c.Client(), &acked)
}
