package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

const (
	// readyTimeout bounds a one-voter group's election plus its leadership
	// barrier: one election timeout (testElection) and a bolt write, with a
	// wide margin for a loaded 2-core machine.
	readyTimeout = 10 * time.Second
	// testElection shortens Raft's timeouts (default 1 s) so that each test
	// shard elects itself in ~100 ms.
	testElection = 100 * time.Millisecond
	// opTimeout bounds any single write or read in these tests.
	opTimeout = 10 * time.Second
)

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testShardConfig is a shard on a free loopback port with fast elections.
func testShardConfig(dir string) ShardConfig {
	return ShardConfig{
		ID: "0", NodeID: "n1", Dir: dir, RaftAddr: "127.0.0.1:0",
		HeartbeatTimeout: testElection, ElectionTimeout: testElection,
		LeaderLeaseTimeout: testElection / 2,
		Logger:             testLogger(),
	}
}

// openShard opens cfg's shard, waits until it leads and is ready, and closes
// it when the test ends.
func openShard(t *testing.T, cfg ShardConfig) *Shard {
	t.Helper()
	s, err := OpenShard(cfg)
	if err != nil {
		t.Fatalf("OpenShard: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return s
}

func argv(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

func cmd(args ...string) fsm.Request { return fsm.Request{Cmds: [][][]byte{argv(args...)}} }

func write(t *testing.T, s *Shard, args ...string) fsm.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	r, err := s.Write(ctx, cmd(args...))
	if err != nil {
		t.Fatalf("Write(%q): %v", args, err)
	}
	return r
}

func read(t *testing.T, s *Shard, args ...string) fsm.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	r, err := s.Read(ctx, func(m *fsm.Machine) fsm.Reply { return m.Read(argv(args...), 0) })
	if err != nil {
		t.Fatalf("Read(%q): %v", args, err)
	}
	return r
}

// show renders a reply as compact text for comparisons and messages.
func show(r fsm.Reply) string {
	var b strings.Builder
	writeShow(&b, r)
	return b.String()
}

func writeShow(b *strings.Builder, r fsm.Reply) {
	switch r.Kind {
	case fsm.KindSimple:
		fmt.Fprintf(b, "+%s", r.Str)
	case fsm.KindError:
		fmt.Fprintf(b, "-%s", r.Str)
	case fsm.KindInt:
		fmt.Fprintf(b, ":%d", r.Int)
	case fsm.KindBulk:
		fmt.Fprintf(b, "%q", r.Bulk)
	case fsm.KindNull, fsm.KindNullArray:
		b.WriteString("nil")
	default:
		fmt.Fprintf(b, "[%d:", r.Kind)
		for i, e := range r.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeShow(b, e)
		}
		b.WriteByte(']')
	}
}

// waitFor polls cond every few milliseconds until it holds or timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
