package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/fsm"
)

// checkReadyTimeout bounds a one-node, two-shard node's start (elections
// on shortened timeouts) on a loaded machine.
const checkReadyTimeout = 20 * time.Second

// checkMarker is a field value written once, to shard checkDamagedShard,
// so a test can find its log entry's bytes in raft.db.
const checkMarker = "check-marker-7f3a9c"

// checkDataDir runs a two-shard node that snapshots every few entries,
// writes through it until every shard has two snapshots, and closes it.
// It returns the data dir and the key written to each shard.
func checkDataDir(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	const election = 100 * time.Millisecond // a lone voter elects itself at once anyway
	n, err := cluster.OpenNode(cluster.NodeConfig{
		NodeID: "n1", DataDir: dir, Shards: 2, RaftAddr: "127.0.0.1:0",
		SnapshotThreshold: 4, SnapshotInterval: 10 * time.Millisecond,
		HeartbeatTimeout: election, ElectionTimeout: election, LeaderLeaseTimeout: election / 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("OpenNode: %v", err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), checkReadyTimeout)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	layout, _ := cluster.NewLayout(2)
	keys := make([]string, 2)
	for i := 0; keys[0] == "" || keys[1] == ""; i++ {
		k := fmt.Sprintf("s%d", i)
		if sh := layout.ShardOfSlot(fsm.KeySlot([]byte(k))); keys[sh] == "" {
			keys[sh] = k
		}
	}
	xadd := func(key, value string) {
		t.Helper()
		req := fsm.Request{Cmds: [][][]byte{{[]byte("XADD"), []byte(key), []byte("*"), []byte("f"), []byte(value)}}}
		if _, err := n.Write(ctx, []byte(key), req); err != nil {
			t.Fatalf("XADD %s: %v", key, err)
		}
	}
	deadline := time.Now().Add(checkReadyTimeout)
	for i := 0; snapshotCount(t, dir, "0") < 2 || snapshotCount(t, dir, "1") < 2; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no two snapshots per shard after %d writes", i)
		}
		xadd(keys[0], fmt.Sprint(i))
		xadd(keys[1], fmt.Sprint(i))
		time.Sleep(5 * time.Millisecond) // let the snapshot interval tick
	}
	xadd(keys[0], checkMarker) // the log's last entries: after every snapshot
	xadd(keys[1], "tail")
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return dir, keys
}

func snapshotCount(t *testing.T, dataDir, shard string) int {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dataDir, "shards", shard, "snapshots"))
	n := 0
	for _, e := range entries {
		if e.IsDir() && !strings.HasSuffix(e.Name(), ".tmp") {
			n++
		}
	}
	return n
}

// newestSnapshot is the directory of shard's newest snapshot.
func newestSnapshot(t *testing.T, dataDir, shard string) string {
	t.Helper()
	r := cluster.VerifyReplica(filepath.Join(dataDir, "shards", shard), cluster.ReplicaShard, cluster.VerifyOptions{})
	if len(r.Snapshots) == 0 {
		t.Fatalf("shard %s has no snapshot", shard)
	}
	return r.Snapshots[0].Path
}

// flipAll flips one bit of every copy of marker in the file.
func flipAll(t *testing.T, path, marker string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := 0; ; n++ {
		j := bytes.Index(b[i:], []byte(marker))
		if j < 0 {
			break
		}
		b[i+j+3] ^= 0x10
		i += j + len(marker)
	}
	if n == 0 {
		t.Fatalf("%q is not in %s", marker, path)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipAt(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x10
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyDataDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func noEnv(string) string { return "" }

func TestCheck(t *testing.T) {
	good, _ := checkDataDir(t)

	// A flipped bit in shard 0's last log entry (fatal: the node's only
	// copy) and in shard 1's newest snapshot (the log still covers the
	// older one: it can be moved aside).
	bad := copyDataDir(t, good)
	flipAll(t, filepath.Join(bad, "shards", "0", "raft.db"), checkMarker)
	aside := newestSnapshot(t, bad, "1")
	flipAt(t, filepath.Join(aside, "state.bin"), 8)

	tests := []struct {
		name   string
		args   []string
		status int
		out    []string // lines (or parts of lines) of stdout, in order
		errOut string
	}{
		{name: "good", args: []string{"--data-dir", good}, status: checkOK, out: []string{
			"data dir " + good,
			"meta group (" + filepath.Join(good, "meta") + "): OK",
			"shard 0 (" + filepath.Join(good, "shards", "0") + "): OK",
			"  log (bolt): entries 1-",
			"ok, restored",
			"shard 1 (" + filepath.Join(good, "shards", "1") + "): OK",
			"3 replicas: 3 OK, 0 damaged, 0 in use",
		}},
		{name: "damaged", args: []string{"--data-dir", bad}, status: checkDamaged, out: []string{
			"meta group (" + filepath.Join(bad, "meta") + "): OK",
			"shard 0 (" + filepath.Join(bad, "shards", "0") + "): DAMAGED",
			"  FATAL " + filepath.Join(bad, "shards", "0", "raft.db") + ": log index ",
			"checksum mismatch",
			"  way out: this is the only copy (its one voter is n1): restore the data dir from a backup",
			"shard 1 (" + filepath.Join(bad, "shards", "1") + "): DAMAGED",
			"BAD: state.bin: CRC mismatch",
			"  SET-ASIDE " + filepath.Join(aside, "state.bin") + ": CRC mismatch",
			"the replica loads without it",
			"  way out: move " + aside + " out of the replica; it then loads from an older snapshot and its log, losing nothing",
			"3 replicas: 1 OK, 2 damaged, 0 in use",
		}},
		{name: "help", args: []string{"-h"}, status: checkOK, errOut: "Usage: streamraft check"},
		{name: "unknown flag", args: []string{"--bogus"}, status: checkUsage, errOut: "flag provided but not defined: -bogus"},
		{name: "extra argument", args: []string{"--data-dir", good, "more"}, status: checkUsage, errOut: `unexpected argument "more"`},
		{name: "no data dir", args: []string{"--data-dir", filepath.Join(good, "missing")}, status: checkUsage, errOut: "no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := runCheck(tc.args, noEnv, &stdout, &stderr)
			t.Logf("stdout:\n%s", stdout.String())
			if status != tc.status {
				t.Errorf("status %d; want %d (stderr %s)", status, tc.status, stderr.String())
			}
			checkLines(t, stdout.String(), tc.out)
			if !strings.Contains(stderr.String(), tc.errOut) {
				t.Errorf("stderr %q; want it to contain %q", stderr.String(), tc.errOut)
			}
		})
	}

	t.Run("environment", func(t *testing.T) {
		var stdout bytes.Buffer
		env := func(k string) string {
			if k == "STREAMRAFT_DATA_DIR" {
				return bad
			}
			return ""
		}
		if status := runCheck(nil, env, &stdout, io.Discard); status != checkDamaged || !strings.Contains(stdout.String(), "data dir "+bad) {
			t.Errorf("STREAMRAFT_DATA_DIR=%s: status %d, stdout %q; want %d for that dir", bad, status, stdout.String(), checkDamaged)
		}
	})

	t.Run("binary", func(t *testing.T) { checkBinary(t, good, bad) })
}

// checkBinary runs the built binary's check on a good and a damaged data
// dir: the exit status is the process's.
func checkBinary(t *testing.T, good, bad string) {
	bin := buildBinary(t)
	for _, c := range []struct {
		dir    string
		status int
		line   string
	}{{good, checkOK, "3 replicas: 3 OK"}, {bad, checkDamaged, "3 replicas: 1 OK, 2 damaged"}} {
		out, err := exec.Command(bin, "check", "--data-dir", c.dir).CombinedOutput()
		status := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			status = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if status != c.status || !strings.Contains(string(out), c.line) {
			t.Errorf("streamraft check --data-dir %s: status %d, output:\n%s\nwant status %d and %q", c.dir, status, out, c.status, c.line)
		}
	}
}

// checkLines wants each of want in out, each on the line of the one
// before or a later one.
func checkLines(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	at := 0
	for _, w := range want {
		i := slices.IndexFunc(lines[at:], func(l string) bool { return strings.Contains(l, w) })
		if i < 0 {
			t.Errorf("no line with %q from line %d of the output on", w, at+1)
			return
		}
		at += i
	}
}
