package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc64"

	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/streamraft/streamraft/fsm"
)

// A test shard: verifyWrites XADDs over three keys, one log entry each,
// with a snapshot forced after the first and the second third, so the
// directory holds two snapshots and a log tail after the newest.
const (
	verifyWrites = 90
	// verifyLockTimeout is how long VerifyReplica waits for a lock in these
	// tests: the holder is a shard of this test, which never lets go.
	verifyLockTimeout = 100 * time.Millisecond
)

// builtShard is a closed shard directory and what was written to it.
type builtShard struct {
	dir   string
	cfg   ShardConfig
	snaps []raft.SnapshotMeta // newest first
	last  uint64              // the last log index
}

// buildShard writes a shard with store's log. trailing is the log entries
// kept before a snapshot: 0 keeps hashicorp/raft's 10240 (no compaction
// here: the log starts at index 1), 1 compacts the log up to the newest
// snapshot, past the older one.
func buildShard(t *testing.T, store string, trailing uint64) builtShard {
	t.Helper()
	cfg := testShardConfig(t.TempDir())
	cfg.LogStore, cfg.TrailingLogs = store, trailing
	cfg.SnapshotThreshold = 1 << 20 // only the forced snapshots
	s := openShard(t, cfg)
	writeKeys(t, s, 0, verifyWrites/3)
	forceSnapshot(t, s)
	writeKeys(t, s, verifyWrites/3, 2*verifyWrites/3)
	forceSnapshot(t, s)
	writeKeys(t, s, 2*verifyWrites/3, verifyWrites)
	b := builtShard{dir: cfg.Dir, cfg: cfg, last: s.r.LastIndex()}
	metas, err := s.snaps.List()
	if err != nil || len(metas) != 2 {
		t.Fatalf("snapshots = %d, %v; want 2", len(metas), err)
	}
	for _, m := range metas {
		b.snaps = append(b.snaps, *m)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return b
}

func forceSnapshot(t *testing.T, s *Shard) {
	t.Helper()
	if err := s.r.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
}

// copyDir copies a closed replica directory into a fresh one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// snapFile is a file of the i-th newest snapshot of dir.
func snapFile(b builtShard, dir string, i int, name string) string {
	return filepath.Join(dir, snapDir, b.snaps[i].ID, name)
}

// flipByte flips one bit of the file's byte at off.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c [1]byte
	if _, err := f.ReadAt(c[:], off); err != nil {
		t.Fatalf("read %s at %d: %v", path, off, err)
	}
	c[0] ^= 0x10
	if _, err := f.WriteAt(c[:], off); err != nil {
		t.Fatal(err)
	}
}

// boltUsed is the bytes of raft.db's pages in use, from its meta page.
func boltUsed(t *testing.T, path string) (used int64, pageSize int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := readBoltMetas(f)
	if err != nil {
		t.Fatal(err)
	}
	return int64(m.pgid) * int64(m.pageSize), int(m.pageSize)
}

// boltLeafPages lists the leaf pages of raft.db's logs bucket.
func boltLeafPages(t *testing.T, path string) []int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var leaves []int
	_ = db.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "leaf" {
				leaves = append(leaves, id)
			}
		}
	})
	return leaves
}

// flipLogValue flips byte at of log idx's payload in raft.db: in every
// copy of the payload the file holds, since the page bolt reads it from
// is not easy to find (small buckets live inside their parent's page) and
// freed pages may hold stale copies.
func flipLogValue(t *testing.T, path string, idx uint64, at int) {
	t.Helper()
	store, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	err = store.GetLog(idx, &l)
	store.Close()
	if err != nil {
		t.Fatalf("GetLog(%d): %v", idx, err)
	}
	flipPayload(t, path, l.Data, at)
}

// flipPayload flips byte at of every copy of payload in the file.
func flipPayload(t *testing.T, path string, payload []byte, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; ; n++ {
		i := bytes.Index(b[off:], payload)
		if i < 0 {
			break
		}
		flipByte(t, path, int64(off+i+at))
		off += i + len(payload)
	}
	if n == 0 {
		t.Fatalf("the payload is not in %s", path)
	}
}

// deleteLogs deletes the logs lo..hi from raft.db.
func deleteLogs(t *testing.T, path string, lo, hi uint64) {
	t.Helper()
	store, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.DeleteRange(lo, hi); err != nil {
		t.Fatal(err)
	}
}

// walTailSegment is the newest segment file of a raft-wal directory.
func walTailSegment(t *testing.T, dir string) string {
	t.Helper()
	seg := tailSegment(dir)
	if seg == "" {
		t.Fatalf("no segments in %s", dir)
	}
	return seg
}

func tailSegment(dir string) string {
	segs, _ := filepath.Glob(filepath.Join(dir, walDir, "*"+walSegmentExt))
	slices.Sort(segs)
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// dataEnd is the offset just past the last non-zero byte of the file.
func dataEnd(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(bytes.TrimRight(b, "\x00")))
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// garble overwrites pages of the file with random bytes.
func garble(t *testing.T, path string, pageSize int, pages []int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, pageSize)
	for _, p := range pages {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(buf, int64(p)*int64(pageSize)); err != nil {
			t.Fatal(err)
		}
	}
}

// raftChildEnv names the directory TestVerifyRaftChild opens as a shard
// (store ":" dir); unset, that test does nothing.
const raftChildEnv = "STREAMRAFT_VERIFY_CHILD"

// raftChildTimeout bounds a child: start-up, election and a read, with a
// wide margin for a loaded machine.
const raftChildTimeout = 60 * time.Second

// TestVerifyRaftChild is the child of raftOutcome: it opens a shard on a
// (damaged) directory as a node would and prints what it finds. A panic
// ends the process, which raftOutcome reports.
func TestVerifyRaftChild(t *testing.T) {
	arg := os.Getenv(raftChildEnv)
	if arg == "" {
		t.Skip("runs as the child of raftOutcome only")
	}
	store, dir, _ := strings.Cut(arg, ":")
	cfg := testShardConfig(dir)
	cfg.LogStore = store
	s, err := OpenShard(cfg)
	if err != nil {
		fmt.Printf("OUTCOME error: %v\n", err)
		return
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		fmt.Printf("OUTCOME no leader: %v\n", err)
		return
	}
	n := int64(0)
	for k := range 3 {
		r, err := s.Read(ctx, func(m *fsm.Machine) fsm.Reply { return m.Read(argv("XLEN", fmt.Sprintf("k%d", k)), 0) })
		if err != nil {
			fmt.Printf("OUTCOME read: %v\n", err)
			return
		}
		n += r.Int
	}
	fmt.Printf("OUTCOME loads %d of %d entries\n", n, verifyWrites)
}

// raftOutcome opens dir (a copy: the child writes to it) as a shard in a
// child process and says what happened: "loads N of M entries", "error:
// ...", "panic: ...", "fatal error: ...".
func raftOutcome(t *testing.T, store, dir string) string {
	t.Helper()
	dir = copyDir(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), raftChildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestVerifyRaftChild$", "-test.count", "1")
	cmd.Env = append(os.Environ(), raftChildEnv+"="+store+":"+dir)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if o, ok := strings.CutPrefix(line, "OUTCOME "); ok {
			return o
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		for _, p := range []string{"panic: ", "fatal error: ", "unexpected fault address"} {
			if strings.HasPrefix(line, p) {
				return "crash: " + strings.TrimSpace(line)
			}
		}
	}
	return fmt.Sprintf("child ended with %v:\n%s", err, out)
}

// damageCase is one way a replica directory gets damaged, what the
// verifier must say about it, and what hashicorp/raft v1.7.2 does with it
// at start (checked in a child process unless -short).
type damageCase struct {
	name     string
	store    string
	trailing uint64 // see buildShard
	damage   func(t *testing.T, b builtShard, dir string)
	kind     ProblemKind // of the first problem; 0: no problem
	path     func(b builtShard, dir string) string
	reason   string // in the first problem's reason (or a note, with kind 0)
	raft     string // the start of raftOutcome's answer
}

func newestSnap(name string) func(builtShard, string) string {
	return func(b builtShard, dir string) string { return snapFile(b, dir, 0, name) }
}

func inDir(name string) func(builtShard, string) string {
	return func(_ builtShard, dir string) string { return filepath.Join(dir, name) }
}

var damageCases = []damageCase{
	{name: "undamaged, raft-boltdb", store: LogStoreBolt, raft: "loads 90 of 90 entries"},
	{name: "undamaged, compacted log", store: LogStoreBolt, trailing: 1, raft: "loads 90 of 90 entries"},
	{name: "undamaged, raft-wal", store: LogStoreWAL, raft: "loads 90 of 90 entries"},
	{
		name: "newest state.bin flipped, the log covers the older", store: LogStoreBolt,
		damage: func(t *testing.T, b builtShard, dir string) { flipByte(t, snapFile(b, dir, 0, snapStateFile), 10) },
		kind:   ProblemSetAside, path: newestSnap(snapStateFile), reason: "CRC mismatch",
		// OpenShard shows raft only the newest snapshot (no fallback):
		// the node moves the damaged one aside first (checkOnOpen).
		raft: "error: shard 0: start raft: failed to load any existing snapshots",
	},
	{
		name: "newest state.bin flipped, the log compacted past the older", store: LogStoreBolt, trailing: 1,
		damage: func(t *testing.T, b builtShard, dir string) { flipByte(t, snapFile(b, dir, 0, snapStateFile), 10) },
		kind:   ProblemFatal, path: newestSnap(snapStateFile), reason: "but the log lacks indices 34-62",
		raft: "error: shard 0: start raft: failed to load any existing snapshots",
	},
	{
		name: "newest meta.json garbage, the log covers the older", store: LogStoreBolt,
		damage: func(t *testing.T, b builtShard, dir string) {
			writeFile(t, snapFile(b, dir, 0, snapMetaFile), []byte("{garbage"))
		},
		kind: ProblemSetAside, path: newestSnap(snapMetaFile), reason: "does not parse",
		raft: "loads 90 of 90 entries",
	},
	{
		name: "newest meta.json garbage, the log compacted past the older", store: LogStoreBolt, trailing: 1,
		damage: func(t *testing.T, b builtShard, dir string) {
			writeFile(t, snapFile(b, dir, 0, snapMetaFile), []byte("{garbage"))
		},
		kind: ProblemFatal, path: newestSnap(snapMetaFile), reason: "does not parse",
		raft: "crash: panic: log not found",
	},
	{
		name: "both state.bin flipped, the log compacted", store: LogStoreBolt, trailing: 1,
		damage: func(t *testing.T, b builtShard, dir string) {
			flipByte(t, snapFile(b, dir, 0, snapStateFile), 10)
			flipByte(t, snapFile(b, dir, 1, snapStateFile), 10)
		},
		kind: ProblemFatal, path: newestSnap(snapStateFile), reason: "starts from no snapshot, but the log lacks indices 1-62",
		raft: "error: shard 0: start raft: failed to load any existing snapshots",
	},
	{
		name: "raft.db truncated to half its pages", store: LogStoreBolt,
		damage: func(t *testing.T, b builtShard, dir string) {
			p := filepath.Join(dir, boltFile)
			used, _ := boltUsed(t, p)
			if err := os.Truncate(p, used/2); err != nil {
				t.Fatal(err)
			}
		},
		kind: ProblemFatal, path: inDir(boltFile), reason: "truncated",
		raft: "crash: ",
	},
	{
		name: "raft.db with garbage pages in the middle", store: LogStoreBolt,
		damage: func(t *testing.T, b builtShard, dir string) {
			p := filepath.Join(dir, boltFile)
			leaves := boltLeafPages(t, p)
			_, ps := boltUsed(t, p)
			garble(t, p, ps, leaves[len(leaves)/2:len(leaves)/2+1])
		},
		kind: ProblemFatal, path: inDir(boltFile), reason: "the file is damaged",
		raft: "crash: ",
	},
	{
		name: "a byte flipped in a log value", store: LogStoreBolt,
		damage: func(t *testing.T, b builtShard, dir string) {
			flipLogValue(t, filepath.Join(dir, boltFile), b.last, 3)
		},
		kind: ProblemFatal, path: inDir(boltFile), reason: "checksum mismatch",
		raft: "crash: panic: cluster: undecodable log entry at index 93",
	},
	{
		name: "logs deleted after the newest snapshot: a gap", store: LogStoreBolt,
		damage: func(t *testing.T, b builtShard, dir string) {
			deleteLogs(t, filepath.Join(dir, boltFile), b.last-5, b.last-3)
		},
		kind: ProblemFatal, path: inDir(boltFile), reason: "the log lacks indices 88-90",
		raft: "crash: panic: log not found",
	},
	{
		name: "wal tail segment truncated inside its last write", store: LogStoreWAL,
		damage: func(t *testing.T, b builtShard, dir string) {
			seg := walTailSegment(t, dir)
			if err := os.Truncate(seg, dataEnd(t, seg)-20); err != nil {
				t.Fatal(err)
			}
		},
		kind: ProblemFatal, reason: "truncated",
		path: func(_ builtShard, dir string) string { return tailSegment(dir) },
		raft: "loads 89 of 90 entries",
	},
	{
		name: "wal last write torn by a crash (full size, zeros)", store: LogStoreWAL,
		damage: func(t *testing.T, b builtShard, dir string) {
			seg := walTailSegment(t, dir)
			end := dataEnd(t, seg)
			f, err := os.OpenFile(seg, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, 20), end-20); err != nil {
				t.Fatal(err)
			}
		},
		reason: "a write torn by a crash",
		raft:   "loads 89 of 90 entries",
	},
	{
		name: "a byte flipped in a wal entry", store: LogStoreWAL,
		damage: func(t *testing.T, b builtShard, dir string) {
			flipPayload(t, walTailSegment(t, dir), walPayload(t, dir, b.last-5), 3)
		},
		kind: ProblemFatal, path: inDir(walDir), reason: "checksum mismatch",
		raft: "crash: panic: cluster: undecodable log entry at index 88",
	},
}

// walPayload reads log idx of a closed raft-wal shard directory.
func walPayload(t *testing.T, dir string, idx uint64) []byte {
	t.Helper()
	st, err := openLogStore(dir, LogStoreWAL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var l raft.Log
	if err := st.GetLog(idx, &l); err != nil {
		t.Fatal(err)
	}
	return l.Data
}

// TestVerifyDamage damages copies of real shard directories and checks
// what VerifyReplica and CheckReplica say, and (unless -short) what
// hashicorp/raft does when a node opens them.
func TestVerifyDamage(t *testing.T) {
	built := map[string]builtShard{}
	parent := t
	for _, tc := range damageCases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprint(tc.store, tc.trailing)
			if _, ok := built[key]; !ok {
				built[key] = buildShard(parent, tc.store, tc.trailing)
			}
			b := built[key]
			dir := copyDir(t, b.dir)
			if tc.damage != nil {
				tc.damage(t, b, dir)
			}
			r := VerifyReplica(dir, ReplicaShard, VerifyOptions{Full: true, LockTimeout: verifyLockTimeout})
			logReport(t, r)
			checkDamage(t, tc, b, dir, r)
			if !testing.Short() {
				got := raftOutcome(t, tc.store, dir)
				t.Logf("hashicorp/raft at start: %s", got)
				if !strings.HasPrefix(got, tc.raft) {
					t.Errorf("hashicorp/raft at start: %s; want %s...", got, tc.raft)
				}
			}
		})
	}
}

// checkDamage checks a report, and CheckReplica, against tc.
func checkDamage(t *testing.T, tc damageCase, b builtShard, dir string, r *ReplicaReport) {
	t.Helper()
	if tc.kind == 0 {
		if len(r.Problems) > 0 {
			t.Fatalf("problems: %v; want none", r.Problems)
		}
		if tc.reason != "" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, tc.reason) }) {
			t.Errorf("notes %q; want one saying %q", r.Notes, tc.reason)
		}
		if err := CheckReplica(dir, ReplicaShard); err != nil {
			t.Errorf("CheckReplica = %v; want nil", err)
		}
		return
	}
	if len(r.Problems) == 0 {
		t.Fatalf("no problems; want a %v one", tc.kind)
	}
	p, wantPath := r.Problems[0], tc.path(b, dir)
	if p.Kind != tc.kind || p.Path != wantPath || !strings.Contains(p.Reason, tc.reason) {
		t.Errorf("first problem = %v %s: %s; want %v %s: ...%s...", p.Kind, p.Path, p.Reason, tc.kind, wantPath, tc.reason)
	}
	if got, want := r.Fatal(), tc.kind == ProblemFatal; got != want {
		t.Errorf("Fatal() = %v; want %v", got, want)
	}
	var de *DamageError
	if err := CheckReplica(dir, ReplicaShard); !errors.As(err, &de) {
		t.Fatalf("CheckReplica = %v; want a *DamageError", err)
	}
	if de.Kind != tc.kind || de.Path != wantPath || !strings.Contains(de.Error(), wantPath) {
		t.Errorf("CheckReplica = %v (kind %v); want a %v error naming %s", de, de.Kind, tc.kind, wantPath)
	}
	wantAside := []string(nil)
	if tc.kind == ProblemSetAside {
		wantAside = []string{filepath.Dir(wantPath)}
	}
	if got := de.SetAside(); !slices.Equal(got, wantAside) {
		t.Errorf("SetAside() = %q; want %q", got, wantAside)
	}
}

func logReport(t *testing.T, r *ReplicaReport) {
	t.Helper()
	t.Logf("%s %s: log %d-%d (%d entries), term %d, voters %v", r.Kind, r.LogStore, r.FirstIndex, r.LastIndex, r.Entries, r.CurrentTerm, r.Voters)
	for _, s := range r.Snapshots {
		t.Logf("  snapshot %s index %d ok %v restored %v %s", s.ID, s.Index, s.OK, s.Restored, s.Reason)
	}
	for _, n := range r.Notes {
		t.Logf("  note: %s", n)
	}
	for _, p := range r.Problems {
		t.Logf("  %v: %s", p.Kind, p)
	}
}

func TestVerifyReport(t *testing.T) {
	for _, tc := range []struct {
		store    string
		trailing uint64
	}{{LogStoreBolt, 0}, {LogStoreBolt, 1}, {LogStoreWAL, 0}} {
		t.Run(fmt.Sprint(tc.store, " trailing ", tc.trailing), func(t *testing.T) {
			b := buildShard(t, tc.store, tc.trailing)
			r := VerifyReplica(b.dir, ReplicaShard, VerifyOptions{Full: true})
			logReport(t, r)
			first := uint64(1)
			if tc.trailing == 1 {
				first = b.snaps[0].Index // compacted up to the newest snapshot
			}
			if r.LogStore != tc.store || r.FirstIndex != first || r.LastIndex != b.last || r.Entries != b.last-first+1 {
				t.Errorf("log %s %d-%d, %d entries; want %s %d-%d, %d", r.LogStore, r.FirstIndex, r.LastIndex, r.Entries, tc.store, first, b.last, b.last-first+1)
			}
			if r.Kind != ReplicaShard || r.ID != filepath.Base(b.dir) || r.CurrentTerm == 0 || r.LastVoteCand == "" || !slices.Equal(r.Voters, []string{"n1"}) {
				t.Errorf("kind %s, id %s, term %d, vote %q, voters %v; want shard, %s, a term, a vote, [n1]", r.Kind, r.ID, r.CurrentTerm, r.LastVoteCand, r.Voters, filepath.Base(b.dir))
			}
			if len(r.Snapshots) != 2 {
				t.Fatalf("%d snapshots; want 2", len(r.Snapshots))
			}
			for i, s := range r.Snapshots {
				want := b.snaps[i]
				if s.ID != want.ID || s.Index != want.Index || s.Term != want.Term || s.Size != want.Size || !s.OK || !s.Restored {
					t.Errorf("snapshot %d = %+v; want %s index %d term %d size %d, ok and restored", i, s, want.ID, want.Index, want.Term, want.Size)
				}
			}
			if len(r.Problems) > 0 || len(r.Notes) > 0 || r.Err() != nil {
				t.Errorf("problems %v, notes %q, Err %v; want none", r.Problems, r.Notes, r.Err())
			}
		})
	}
}

// TestVerifyInUse: a replica a running shard holds is reported in use,
// which is not damage, within the lock timeout.
func TestVerifyInUse(t *testing.T) {
	for _, store := range []string{LogStoreBolt, LogStoreWAL} {
		t.Run(store, func(t *testing.T) {
			cfg := testShardConfig(t.TempDir())
			cfg.LogStore = store
			s := openShard(t, cfg)
			write(t, s, "XADD", "s", "*", "f", "v")
			start := time.Now()
			r := VerifyReplica(cfg.Dir, ReplicaShard, VerifyOptions{Full: true, LockTimeout: verifyLockTimeout})
			if d := time.Since(start); d > 20*verifyLockTimeout {
				t.Errorf("VerifyReplica took %v; want about the lock timeout %v", d, verifyLockTimeout)
			}
			if len(r.Problems) != 1 || r.Problems[0].Kind != ProblemInUse || !r.InUse() || r.Fatal() {
				t.Fatalf("problems %v; want one in use", r.Problems)
			}
			err := CheckReplica(cfg.Dir, ReplicaShard)
			var de *DamageError
			if !errors.Is(err, ErrInUse) || errors.As(err, &de) || !strings.Contains(err.Error(), cfg.Dir) {
				t.Errorf("CheckReplica = %v; want ErrInUse naming %s, not damage", err, cfg.Dir)
			}
		})
	}
}

// TestVerifyFull: a snapshot raft's CRC accepts but the state machine
// cannot restore passes the fast check and fails the full one; raft falls
// back to the older snapshot.
func TestVerifyFull(t *testing.T) {
	b := buildShard(t, LogStoreBolt, 0)
	dir := copyDir(t, b.dir)
	state := []byte("SRFS\x03 not a snapshot")
	writeFile(t, snapFile(b, dir, 0, snapStateFile), state)
	m, err := readSnapMeta(snapFile(b, dir, 0, snapMetaFile))
	if err != nil {
		t.Fatal(err)
	}
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	h.Write(state)
	m.CRC, m.Size = h.Sum(nil), int64(len(state))
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, snapFile(b, dir, 0, snapMetaFile), js)

	if err := CheckReplica(dir, ReplicaShard); err != nil {
		t.Errorf("CheckReplica (no restore) = %v; want nil", err)
	}
	r := VerifyReplica(dir, ReplicaShard, VerifyOptions{Full: true})
	logReport(t, r)
	if len(r.Problems) != 1 || r.Problems[0].Kind != ProblemSetAside || !strings.Contains(r.Problems[0].Reason, "restore: ") ||
		r.Problems[0].Path != snapFile(b, dir, 0, snapStateFile) {
		t.Errorf("problems %v; want the newest state.bin set aside for failing to restore", r.Problems)
	}
	if !testing.Short() {
		// OpenShard shows raft only the newest snapshot: it fails instead
		// of falling back (the node sets the snapshot aside first).
		if got := raftOutcome(t, LogStoreBolt, dir); !strings.HasPrefix(got, "error: shard 0: start raft: failed to load any existing snapshots") {
			t.Errorf("hashicorp/raft at start: %s; want an error, not a fallback", got)
		}
	}
}

// buildDataDir runs a two-shard node, writes to both shards and snapshots
// the meta group, and closes it.
func buildDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	n := openNode(t, testNodeConfig(dir, 2))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for _, key := range []string{"a", "b", "c", "d"} {
		if _, err := n.Write(ctx, []byte(key), cmd("XADD", key, "*", "f", "v")); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := n.meta.r.Snapshot().Error(); err != nil {
		t.Fatalf("meta snapshot: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerifyDataDir(t *testing.T) {
	dataDir := buildDataDir(t)
	rep, err := VerifyDataDir(dataDir, VerifyOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Replicas {
		logReport(t, r)
		got = append(got, fmt.Sprint(r.Kind, " ", r.ID, " ", len(r.Problems)))
		if r.Entries == 0 || r.LastIndex == 0 {
			t.Errorf("%s %s: %d entries; want some", r.Kind, r.ID, r.Entries)
		}
	}
	if want := []string{"meta meta 0", "shard 0 0", "shard 1 0"}; !slices.Equal(got, want) || !rep.OK() || len(rep.Problems) > 0 {
		t.Fatalf("replicas %q, problems %v; want %q and none", got, rep.Problems, want)
	}
	if m := rep.Replicas[0]; len(m.Snapshots) != 1 || !m.Snapshots[0].Restored {
		t.Errorf("meta snapshots %+v; want one, restored", m.Snapshots)
	}

	// A damaged meta entry (JSON has no checksum: break its syntax) and
	// a garbled cluster.json.
	bad := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(bad, os.DirFS(dataDir)); err != nil {
		t.Fatal(err)
	}
	metaDB := filepath.Join(bad, "meta", boltFile)
	last := VerifyReplica(filepath.Join(bad, "meta"), ReplicaMeta, VerifyOptions{}).LastIndex
	idx := lastCommand(t, metaDB, last)
	flipLogValue(t, metaDB, idx, 0) // '{' becomes 'k'
	writeFile(t, filepath.Join(bad, layoutFile), []byte(`{"version":1,"shards":2`))
	rep, err = VerifyDataDir(bad, VerifyOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Path != filepath.Join(bad, layoutFile) {
		t.Errorf("data dir problems %v; want cluster.json's", rep.Problems)
	}
	m := rep.Replicas[0]
	logReport(t, m)
	if !m.Fatal() || m.Problems[0].Path != metaDB || !strings.Contains(m.Problems[0].Reason, "meta FSM panics") {
		t.Errorf("meta problems %v; want the damaged entry in %s", m.Problems, metaDB)
	}
	for _, r := range rep.Replicas[1:] {
		if len(r.Problems) > 0 {
			t.Errorf("shard %s: %v; want no problems", r.ID, r.Problems)
		}
	}
}

// lastCommand is the index of the last LogCommand entry of a bolt log at
// or before last.
func lastCommand(t *testing.T, path string, last uint64) uint64 {
	t.Helper()
	store, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i := last; i > 0; i-- {
		var l raft.Log
		if err := store.GetLog(i, &l); err == nil && l.Type == raft.LogCommand {
			return i
		}
	}
	t.Fatalf("no command in %s", path)
	return 0
}

// BenchmarkCheckReplica is the pre-start check of a shard whose raft.db
// holds 100,000 one-XADD entries (~100 bytes each) and no snapshot:
// reading, decoding and checksumming every entry once.
func BenchmarkCheckReplica(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltFile), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	value := bytes.Repeat([]byte("v"), 64)
	var batch []*raft.Log
	for i := uint64(1); i <= n; i++ {
		e := fsm.Entry{Stamp: int64(i), Reqs: []fsm.Request{{Cmds: [][][]byte{{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), value}}}}}
		batch = append(batch, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: e.AppendEncode(nil)})
		if len(batch) == 1000 || i == n {
			if err := store.StoreLogs(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := errors.Join(store.SetUint64(keyCurrentTerm, 1), store.Close()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := CheckReplica(dir, ReplicaShard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
}

func TestVerifyEmpty(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "shards", "7")
	if err := CheckReplica(missing, ReplicaShard); err != nil {
		t.Errorf("CheckReplica(a new replica) = %v; want nil", err)
	}
	if r := VerifyReplica(missing, ReplicaShard, VerifyOptions{}); !r.Fatal() || r.Problems[0].Path != missing {
		t.Errorf("VerifyReplica(missing) problems %v; want one naming %s", r.Problems, missing)
	}
	empty := t.TempDir()
	if r := VerifyReplica(empty, ReplicaMeta, VerifyOptions{Full: true}); len(r.Problems) > 0 || r.LogStore != "" || r.Entries != 0 {
		t.Errorf("VerifyReplica(empty dir) = store %q, %d entries, problems %v; want nothing", r.LogStore, r.Entries, r.Problems)
	}
}
