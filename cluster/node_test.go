package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

func TestNodeLayoutAndBackend(t *testing.T) {
	dir := t.TempDir()
	n, err := OpenNode(NodeConfig{NodeID: "n1", DataDir: dir, RaftAddr: "127.0.0.1:0",
		HeartbeatTimeout: testElection, ElectionTimeout: testElection, LeaderLeaseTimeout: testElection / 2,
		Logger: testLogger()})
	if err != nil {
		t.Fatalf("OpenNode: %v", err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	for _, p := range []string{"shards/0/raft.db", "shards/0/snapshots"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("stat %s: %v; want it in the data dir", p, err)
		}
	}
	woken, cancelWatch := n.Watch([]byte("s"), []string{"s"})
	defer cancelWatch()
	r, err := n.Write(ctx, []byte("s"), cmd("XADD", "s", "3-3", "f", "v"))
	if got := show(r); err != nil || got != `"3-3"` {
		t.Errorf("Write XADD = %s, %v; want \"3-3\"", got, err)
	}
	select {
	case <-woken:
	case <-time.After(opTimeout):
		t.Errorf("watcher of s not woken by XADD s")
	}
	r, err = n.Read(ctx, []byte("s"), func(m *fsm.Machine) fsm.Reply { return m.Read(argv("XLEN", "s"), 0) })
	if got := show(r); err != nil || got != ":1" {
		t.Errorf("Read XLEN = %s, %v; want :1", got, err)
	}
	st := n.Status()
	if !st.Leader || !n.Ready() || st.NodeID != "n1" || len(st.Shards) != 1 || st.Shards[0].AppliedIndex < 4 {
		t.Errorf("Status() = %+v, Leader %v, Ready %v; want n1 leading one ready shard applied past 4", st, st.Leader, n.Ready())
	}
}

// TestNotReadyYet: before the one voter elected itself, writes and reads
// are refused with ErrNoLeader (clients get -TRYAGAIN).
func TestNotReadyYet(t *testing.T) {
	cfg := testShardConfig(t.TempDir())
	cfg.HeartbeatTimeout, cfg.ElectionTimeout = time.Second, time.Second // election after >= 1 s
	s, err := OpenShard(cfg)
	if err != nil {
		t.Fatalf("OpenShard: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Write(ctx, cmd("XADD", "s", "*", "f", "v")); !errors.Is(err, ErrNoLeader) {
		t.Errorf("Write before election = %v; want ErrNoLeader", err)
	}
	if _, err := s.Read(ctx, func(*fsm.Machine) fsm.Reply { return fsm.OK() }); !errors.Is(err, ErrNoLeader) {
		t.Errorf("Read before election = %v; want ErrNoLeader", err)
	}
	if s.Ready() {
		t.Errorf("Ready() before election = true; want false")
	}
}

// TestStampNeverGoesBack: if the last stamp is ahead of the clock (the clock
// stepped back), the next entry keeps the last stamp, so * IDs use it.
func TestStampNeverGoesBack(t *testing.T) {
	s := openShard(t, testShardConfig(t.TempDir()))
	write(t, s, "XADD", "s", "*", "f", "v")
	future := time.Now().Add(time.Hour).UnixMilli()
	// The proposer is idle: its last write to stamp happened before the
	// reply above, and this write happens before the next enqueue.
	s.prop.stamp = future
	r := write(t, s, "XADD", "s", "*", "f", "v")
	ms, _, _ := strings.Cut(string(r.Bulk), "-")
	if got, _ := strconv.ParseInt(ms, 10, 64); got != future {
		t.Errorf("XADD * = %s; want an ID at %d ms (the last stamp)", show(r), future)
	}
}

// BenchmarkWriteParallel measures group commit: 50 writers, one voter,
// fsynced bolt log. Reports requests per log entry.
func BenchmarkWriteParallel(b *testing.B) {
	cfg := testShardConfig(b.TempDir())
	s, err := OpenShard(cfg)
	if err != nil {
		b.Fatalf("OpenShard: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		b.Fatalf("WaitReady: %v", err)
	}
	const writers = 50
	payload := strings.Repeat("x", 100)
	var wg sync.WaitGroup
	var next sync.Mutex
	remaining := b.N
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			req := cmd("XADD", fmt.Sprintf("b%d", w%8), "*", "p", payload)
			for {
				next.Lock()
				if remaining == 0 {
					next.Unlock()
					return
				}
				remaining--
				next.Unlock()
				if _, err := s.Write(context.Background(), req); err != nil {
					b.Errorf("Write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if e := s.prop.entries.Load(); e > 0 {
		b.ReportMetric(float64(s.prop.requests.Load())/float64(e), "reqs/entry")
	}
}

// BenchmarkReadParallel measures read-index reads (XLEN) from 50 readers;
// reports how many reads shared each leadership round.
func BenchmarkReadParallel(b *testing.B) {
	s, err := OpenShard(testShardConfig(b.TempDir()))
	if err != nil {
		b.Fatalf("OpenShard: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		b.Fatalf("WaitReady: %v", err)
	}
	if _, err := s.Write(ctx, cmd("XADD", "s", "*", "f", "v")); err != nil {
		b.Fatalf("XADD: %v", err)
	}
	xlen := argv("XLEN", "s")
	fn := func(m *fsm.Machine) fsm.Reply { return m.Read(xlen, 0) }
	start := s.reads.rounds.Load()
	b.SetParallelism(25) // 2 cores x 25 = 50 readers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := s.Read(context.Background(), fn); err != nil || r.Int != 1 {
				b.Errorf("Read XLEN = %+v, %v; want 1", r, err)
				return
			}
		}
	})
	b.StopTimer()
	if rounds := s.reads.rounds.Load() - start; rounds > 0 {
		b.ReportMetric(float64(b.N)/float64(rounds), "reads/round")
	}
}

func TestReopenWithOtherNodeID(t *testing.T) {
	dir := t.TempDir()
	s := openShard(t, testShardConfig(dir))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	cfg := testShardConfig(dir)
	cfg.NodeID = "someone-else"
	if s2, err := OpenShard(cfg); err == nil || !strings.Contains(err.Error(), "someone-else") {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("OpenShard with another node ID = %v; want an error naming it", err)
	}
	// The refused open released the directory: the right ID opens it.
	openShard(t, testShardConfig(dir))
}

// TestDataDirInUse: a second shard on a directory in use fails to open
// instead of hanging on the log store's lock (raft-wal's meta store has no
// lock timeout of its own: it hung here), and opens once the first closed.
func TestDataDirInUse(t *testing.T) {
	for _, store := range []string{LogStoreBolt, LogStoreWAL} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testShardConfig(dir)
			cfg.LogStore = store
			s1 := openShard(t, cfg)
			start := time.Now()
			s2, err := OpenShard(cfg)
			if err == nil {
				s2.Close()
				t.Fatalf("second OpenShard on the same dir succeeded; want an error")
			}
			if d := time.Since(start); d > 2*boltLockTimeout {
				t.Errorf("second OpenShard failed after %v; want within %v", d, 2*boltLockTimeout)
			}
			if !strings.Contains(err.Error(), "in use by another streamraft") {
				t.Errorf("second OpenShard: %v; want it to say the dir is in use", err)
			}
			if err := s1.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			openShard(t, cfg)
		})
	}
}
