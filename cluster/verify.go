package cluster

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Offline verification of replica directories (DESIGN.md, Verifying a data
// dir). No file on disk may crash-loop a node or make it drop data silently:
// VerifyReplica reads everything hashicorp/raft would load at start (the
// log store, the stable store, the snapshots) inside a goroutine that turns
// memory faults and panics into problems, and says for each problem whether
// the replica can still be loaded once a damaged snapshot is moved aside.

// ReplicaKind is what a replica directory holds.
type ReplicaKind string

const (
	ReplicaShard ReplicaKind = "shard" // <data-dir>/shards/<id>: fsm entries and snapshots
	ReplicaMeta  ReplicaKind = "meta"  // <data-dir>/meta: JSON entries and snapshots
)

// ProblemKind says what a problem means for starting the replica.
type ProblemKind int

const (
	// ProblemFatal: the replica's state cannot be loaded as it is:
	// hashicorp/raft would panic or fail at start, the FSM would panic
	// applying an entry, or the replica would start without data it held.
	// The way out is to rebuild the replica (from its peers, or a backup).
	ProblemFatal ProblemKind = iota + 1
	// ProblemSetAside: a damaged snapshot the replica does not need. Moving
	// Problem.Move out of the replica leaves one that loads from an older
	// snapshot and its log, with nothing lost.
	ProblemSetAside
	// ProblemInUse: another process holds the replica's log store; nothing
	// was checked. It is not damage.
	ProblemInUse
)

func (k ProblemKind) String() string {
	switch k {
	case ProblemFatal:
		return "fatal"
	case ProblemSetAside:
		return "set-aside"
	case ProblemInUse:
		return "in use"
	}
	return "problem(" + strconv.Itoa(int(k)) + ")"
}

// Problem is one thing wrong with a replica, naming the file at fault.
type Problem struct {
	Kind   ProblemKind
	Path   string // the file (or directory) at fault
	Reason string
	// Move is, for ProblemSetAside, the directory to move out of the
	// replica (a snapshot's directory).
	Move string
}

func (p Problem) String() string { return p.Path + ": " + p.Reason }

// SnapshotReport is one directory under <replica>/snapshots.
type SnapshotReport struct {
	ID    string
	Path  string // the snapshot's directory
	Index uint64 // from meta.json, or from the directory name when meta.json is unreadable
	Term  uint64
	Size  int64 // state.bin's size in bytes
	OK    bool
	// Reason says why the snapshot is not OK.
	Reason string
	// Restored: with VerifyOptions.Full, the snapshot was restored into a
	// throwaway state machine.
	Restored bool
}

// ReplicaReport is what VerifyReplica found in one replica directory.
type ReplicaReport struct {
	Dir  string
	ID   string // the directory's name: the shard ID, or "meta"
	Kind ReplicaKind
	// LogStore is LogStoreBolt (raft.db), LogStoreWAL (wal/) or "" (none).
	LogStore   string
	FirstIndex uint64 // 0 when the log is empty
	LastIndex  uint64
	Entries    uint64 // logs present (LastIndex-FirstIndex+1 unless there are gaps)
	// The stable store.
	CurrentTerm  uint64
	LastVoteTerm uint64
	LastVoteCand string
	// Voters is the latest Raft configuration's voters, from the log or
	// the newest good snapshot.
	Voters    []string
	Snapshots []SnapshotReport // newest first
	// Notes are findings that are not problems (an unfinished snapshot, a
	// write torn by a crash that raft-wal drops).
	Notes    []string
	Problems []Problem // fatal ones first
}

// Fatal reports whether the replica cannot be loaded as it is, even with
// its damaged snapshots moved aside.
func (r *ReplicaReport) Fatal() bool {
	return slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Kind == ProblemFatal })
}

// InUse reports whether another process held the replica, so that it was
// not checked.
func (r *ReplicaReport) InUse() bool {
	return slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Kind == ProblemInUse })
}

// Err is nil for a replica without problems, an error that matches ErrInUse
// for one another process holds, and a *DamageError otherwise.
func (r *ReplicaReport) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	p := r.Problems[0]
	if p.Kind == ProblemInUse {
		return &inUseError{path: p.Path, reason: p.Reason}
	}
	return &DamageError{Dir: r.Dir, Kind: p.Kind, Path: p.Path, Reason: p.Reason, Problems: slices.Clone(r.Problems)}
}

// ErrInUse matches the error of a replica (or log store) that another
// process holds.
var ErrInUse = errors.New("cluster: in use by another process")

type inUseError struct{ path, reason string }

func (e *inUseError) Error() string        { return e.path + ": " + e.reason }
func (e *inUseError) Is(target error) bool { return target == ErrInUse }

// DamageError is a replica whose files are damaged. Path and Reason are the
// most serious problem; Problems lists them all, fatal ones first.
type DamageError struct {
	Dir      string // the replica directory
	Kind     ProblemKind
	Path     string
	Reason   string
	Problems []Problem
}

func (e *DamageError) Error() string {
	var b strings.Builder
	if e.Kind == ProblemSetAside {
		fmt.Fprintf(&b, "replica %s has a damaged snapshot it can do without: %s: %s", e.Dir, e.Path, e.Reason)
	} else {
		fmt.Fprintf(&b, "replica %s cannot be loaded: %s: %s", e.Dir, e.Path, e.Reason)
	}
	if n := len(e.Problems) - 1; n > 0 {
		fmt.Fprintf(&b, " (and %d more %s)", n, plural(n, "problem", "problems"))
	}
	return b.String()
}

// Fatal reports whether the replica cannot be loaded even with its
// damaged snapshots moved aside.
func (e *DamageError) Fatal() bool { return e.Kind == ProblemFatal }

// SetAside lists the snapshot directories to move out of the replica when
// that is enough for it to load (nil when the damage is fatal).
func (e *DamageError) SetAside() []string {
	if e.Fatal() {
		return nil
	}
	var dirs []string
	for _, p := range e.Problems {
		if p.Kind == ProblemSetAside && p.Move != "" && !slices.Contains(dirs, p.Move) {
			dirs = append(dirs, p.Move)
		}
	}
	return dirs
}

// VerifyOptions tune VerifyReplica and VerifyDataDir.
type VerifyOptions struct {
	// Full also restores every snapshot whose checksum matches into a
	// throwaway state machine (a shard's fsm.Machine, the meta group's
	// JSON state), proving that it decodes.
	Full bool
	// LockTimeout bounds the wait for a log store another process holds
	// (0: boltLockTimeout); past it the replica is reported in use.
	LockTimeout time.Duration
}

// CheckReplica is the fast check to run before raft.NewRaft on a replica
// directory: it reads the log once and checksums the snapshots, without
// restoring them. It returns nil (also for a directory that does not exist
// yet: a new replica), a *DamageError naming the damaged file, or an error
// matching ErrInUse.
func CheckReplica(dir string, kind ReplicaKind) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return VerifyReplica(dir, kind, VerifyOptions{}).Err()
}

// VerifyReplica checks one replica directory (<data-dir>/shards/<id> or
// <data-dir>/meta) without changing it, except that opening a raft-wal log
// lets raft-wal do its own crash recovery. It never panics on damaged files.
func VerifyReplica(dir string, kind ReplicaKind, opts VerifyOptions) *ReplicaReport {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = boltLockTimeout
	}
	v := &verifier{opts: opts, r: &ReplicaReport{Dir: dir, ID: filepath.Base(dir), Kind: kind}}
	v.run()
	slices.SortStableFunc(v.r.Problems, func(a, b Problem) int { return cmp.Compare(a.Kind, b.Kind) })
	return v.r
}

// verifier holds the state of one VerifyReplica.
type verifier struct {
	opts VerifyOptions
	r    *ReplicaReport
	log  logScan
	// newest good snapshot, when there is one (index into r.Snapshots)
	base int
	// configuration index of Voters, so a later one replaces it
	votersIndex uint64
}

func (v *verifier) problem(kind ProblemKind, path, format string, args ...any) {
	v.r.Problems = append(v.r.Problems, Problem{Kind: kind, Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (v *verifier) note(format string, args ...any) {
	v.r.Notes = append(v.r.Notes, fmt.Sprintf(format, args...))
}

func (v *verifier) run() {
	if st, err := os.Stat(v.r.Dir); err != nil || !st.IsDir() {
		v.problem(ProblemFatal, v.r.Dir, "not a readable directory: %v", errOr(err, "not a directory"))
		return
	}
	boltPath, walPath := filepath.Join(v.r.Dir, boltFile), filepath.Join(v.r.Dir, walDir)
	v.log.path = boltPath
	switch {
	case exists(boltPath):
		if exists(walPath) {
			v.note("%s: also holds %s, which a node started with --log-store %s opens instead; only %s was checked", v.r.Dir, walDir, LogStoreWAL, boltFile)
		}
		v.r.LogStore = LogStoreBolt
		v.guard(boltPath, func() { v.checkBoltStore(boltPath) })
	case exists(walPath):
		v.r.LogStore = LogStoreWAL
		v.log.path = walPath
		v.guard(walPath, func() { v.checkWALStore(walPath) })
	}
	if v.r.InUse() {
		return // the other process may be writing snapshots too
	}
	v.r.FirstIndex, v.r.LastIndex, v.r.Entries = v.log.first, v.log.last, v.log.count
	v.checkSnapshots()
	v.judgeCoverage()
}

// guard runs fn under protect and turns a panic into a fatal problem of
// path. fn's deferred calls run first, so the files it opened are closed.
func (v *verifier) guard(path string, fn func()) {
	if err := protect(func() error { fn(); return nil }); err != nil {
		v.problem(ProblemFatal, path, "reading it failed, the file is damaged: %v", err)
		v.log.broken = true
	}
}

// errPanicked wraps a panic protect recovered.
var errPanicked = errors.New("panic")

// protect runs fn in a goroutine of its own in which a memory fault
// (reading a memory-mapped file past its end, as bolt does with a
// truncated raft.db) is a panic, and returns a panic as an error.
func protect(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		debug.SetPanicOnFault(true)
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%w: %v", errPanicked, p)
			}
		}()
		done <- fn()
	}()
	return <-done
}

// judgeCoverage checks that the replica's state can be rebuilt at start:
// the newest good snapshot (or nothing), then every log index after it up
// to the last. A damaged snapshot newer than that one is harmless only if
// the log still holds every index it covered.
func (v *verifier) judgeCoverage() {
	var baseIndex uint64
	from := "no snapshot"
	if v.base >= 0 {
		b := v.r.Snapshots[v.base]
		baseIndex, from = b.Index, fmt.Sprintf("snapshot %s (index %d)", b.ID, b.Index)
	}
	missing := v.log.missingAfter(baseIndex)
	var explained uint64 // missing indices up to here are blamed on a damaged snapshot
	for i, s := range v.r.Snapshots {
		if s.OK {
			continue
		}
		path, reason := snapshotFault(s)
		p := Problem{Kind: ProblemSetAside, Path: path, Move: s.Path}
		lost := v.log.lostUpTo(missing, baseIndex, s.Index)
		switch {
		case v.base >= 0 && i > v.base:
			p.Reason = reason + "; it is older than the snapshot the replica loads"
		case v.log.broken:
			p.Kind, p.Move = ProblemFatal, ""
			p.Reason = reason + "; the log is damaged too, so what it held cannot be told"
		case lost == "":
			p.Reason = fmt.Sprintf("%s; the replica loads without it, from %s and the log", reason, from)
		default:
			p.Kind, p.Move = ProblemFatal, ""
			p.Reason = fmt.Sprintf("%s; without it hashicorp/raft starts from %s, but the log %s", reason, from, lost)
			explained = max(explained, s.Index)
		}
		v.r.Problems = append(v.r.Problems, p)
	}
	if v.log.broken {
		return // the log's own problem says it all
	}
	for _, m := range missing {
		if m.hi > explained {
			v.problem(ProblemFatal, v.log.path, "the log lacks %s, after %s: hashicorp/raft panics at start (log not found)", indices(m), from)
		}
	}
}

// snapshotFault is the file of a damaged snapshot to name, and the reason
// without that file's name.
func snapshotFault(s SnapshotReport) (path, reason string) {
	for _, f := range []string{snapMetaFile, snapStateFile} {
		if r, ok := strings.CutPrefix(s.Reason, f+": "); ok {
			return filepath.Join(s.Path, f), r
		}
	}
	return s.Path, s.Reason
}

// span is a range of log indices, both ends included.
type span struct{ lo, hi uint64 }

func (s span) String() string {
	if s.lo == s.hi {
		return strconv.FormatUint(s.lo, 10)
	}
	return fmt.Sprintf("%d-%d", s.lo, s.hi)
}

// indices names spans: "index 7", "indices 3-5", "indices 3-5, 9".
func indices(spans ...span) string {
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = s.String()
	}
	if len(spans) == 1 && spans[0].lo == spans[0].hi {
		return "index " + parts[0]
	}
	return "indices " + strings.Join(parts, ", ")
}

// DataDirReport is what VerifyDataDir found in a data dir.
type DataDirReport struct {
	Dir      string
	Replicas []*ReplicaReport // the meta group first, then the shards by ID
	// Problems are those outside any replica (cluster.json).
	Problems []Problem
}

// OK reports whether nothing is wrong.
func (r *DataDirReport) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, rep := range r.Replicas {
		if len(rep.Problems) > 0 {
			return false
		}
	}
	return true
}

// VerifyDataDir verifies every replica of a data dir (meta/ and each
// shards/<id>/) and its cluster.json. The error is for a data dir that
// cannot be read at all.
func VerifyDataDir(dataDir string, opts VerifyOptions) (*DataDirReport, error) {
	if st, err := os.Stat(dataDir); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("data dir %s: not a directory", dataDir)
	}
	rep := &DataDirReport{Dir: dataDir}
	if p := checkLayoutFile(dataDir); p != nil {
		rep.Problems = append(rep.Problems, *p)
	}
	if meta := filepath.Join(dataDir, "meta"); exists(meta) {
		rep.Replicas = append(rep.Replicas, VerifyReplica(meta, ReplicaMeta, opts))
	}
	shardsDir := filepath.Join(dataDir, "shards")
	entries, err := os.ReadDir(shardsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	slices.SortFunc(ids, compareShardIDs)
	for _, id := range ids {
		rep.Replicas = append(rep.Replicas, VerifyReplica(filepath.Join(shardsDir, id), ReplicaShard, opts))
	}
	return rep, nil
}

// compareShardIDs orders numeric IDs numerically, before any other name.
func compareShardIDs(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	switch {
	case ea == nil && eb == nil:
		return cmp.Compare(na, nb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// checkLayoutFile reads cluster.json as the node does at start.
func checkLayoutFile(dataDir string) *Problem {
	path := filepath.Join(dataDir, layoutFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a data dir from before the file existed, or a fresh one
	}
	if err != nil {
		return &Problem{Kind: ProblemFatal, Path: path, Reason: err.Error()}
	}
	var got Layout
	if err := json.Unmarshal(b, &got); err != nil {
		return &Problem{Kind: ProblemFatal, Path: path, Reason: "does not parse: " + err.Error()}
	}
	want, err := NewLayout(got.Shards)
	if err != nil {
		return &Problem{Kind: ProblemFatal, Path: path, Reason: err.Error()}
	}
	if _, err := checkLayout(path, b, want); err != nil {
		return &Problem{Kind: ProblemFatal, Path: path, Reason: err.Error()}
	}
	return nil
}

func errOr(err error, s string) any {
	if err != nil {
		return err
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
