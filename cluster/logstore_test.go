package cluster

import (
	"context"
	"strings"
	"testing"

	"github.com/streamraft/streamraft/fsm"
)

// TestLogStoreWAL: a node on raft-wal writes, restarts and reads its data
// back; the same data dir opened with the other store is refused, so a
// shard never starts empty over a log it cannot read.
func TestLogStoreWAL(t *testing.T) {
	dir := t.TempDir()
	cfg := testNodeConfig(dir, 2)
	cfg.LogStore = LogStoreWAL
	n := openNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if _, err := n.Write(ctx, []byte("s"), cmd("XADD", "s", "1-1", "f", "v")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	n = openNode(t, cfg)
	r, err := n.Read(ctx, []byte("s"), func(m *fsm.Machine) fsm.Reply { return m.Read(cmd("XLEN", "s").Cmds[0], 0) })
	if err != nil || r.Int != 1 {
		t.Fatalf("XLEN after restart on raft-wal = %+v, %v; want 1", r, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.LogStore = LogStoreBolt
	if _, err := OpenNode(cfg); err == nil || !strings.Contains(err.Error(), "--log-store wal") {
		t.Fatalf("opening a raft-wal data dir with bolt: %v; want a refusal naming --log-store wal", err)
	}
}
