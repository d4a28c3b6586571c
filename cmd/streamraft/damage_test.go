package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestDamagedSnapshotBinary is the review's report, on the real binary: a
// one-node server takes snapshots and keeps a short log (so the log no
// longer reaches back to the older snapshot), is killed, and gets one
// byte of its newest snapshot flipped. It used to panic at every start
// ("log not found": raft fell back to the older snapshot); it must refuse
// to start with an error naming the file and the way out (exit status 1,
// not a Go panic's 2), and `streamraft check` must say the same.
func TestDamagedSnapshotBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("binary test")
	}
	s := newCrashServer(t)
	s.shards = 1
	s.extra = []string{"--raft-trailing-logs", "1"}
	s.start(t)
	c := s.client()
	defer c.Close()
	ctx := context.Background()
	for i := range 400 { // one entry each: a snapshot every 64
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"i", "x"}}).Err(); err != nil {
			t.Fatalf("XADD %d: %v", i, err)
		}
	}
	snapsDir := filepath.Join(s.dir, "shards", "0", "snapshots")
	waitFor(t, "two snapshots", func() bool {
		snaps, _ := filepath.Glob(filepath.Join(snapsDir, "*", "state.bin"))
		return len(snaps) >= 2
	})
	s.signal(t, syscall.SIGKILL)
	snaps, _ := filepath.Glob(filepath.Join(snapsDir, "*", "state.bin"))
	newest, newestIndex := "", -1
	for _, p := range snaps { // <term>-<index>-<time>/state.bin
		parts := strings.Split(filepath.Base(filepath.Dir(p)), "-")
		if i, err := strconv.Atoi(parts[1]); err == nil && i > newestIndex {
			newest, newestIndex = p, i
		}
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(newest, b, 0o640); err != nil {
		t.Fatal(err)
	}

	s.launch(t)
	select {
	case <-s.done:
	case <-time.After(crashStartTimeout):
		t.Fatalf("streamraft still running %v after starting on a damaged snapshot\n%s", crashStartTimeout, s.out)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d; want 1 (refused), not a crash\n%s", code, s.out)
	}
	out := s.out.String()
	t.Logf("streamraft refused to start:\n%s", out)
	for _, want := range []string{"state.bin", "streamraft check --data-dir " + s.dir} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not mention %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "panic:") {
		t.Errorf("streamraft panicked:\n%s", out)
	}

	check := exec.Command(s.bin, "check", "--data-dir", s.dir)
	report, _ := check.CombinedOutput()
	if code := check.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(report), "DAMAGED") {
		t.Errorf("streamraft check: exit %d, report:\n%s\nwant exit 1 and DAMAGED", code, report)
	}
}

// waitFor polls cond until it holds or crashStartTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(crashStartTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, crashStartTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
