package cluster

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/fsm"
)

// raft.FileSnapshotStore's layout (hashicorp/raft v1.7.2 file_snapshot.go):
// snapshots/<term>-<index>-<ms>/{meta.json,state.bin}, unfinished ones
// ending in .tmp.
const (
	snapDir       = "snapshots"
	snapMetaFile  = "meta.json"
	snapStateFile = "state.bin"
	snapTmpSuffix = ".tmp"
)

// snapMeta is raft's meta.json: the snapshot's metadata and a CRC-64
// (ECMA) of state.bin.
type snapMeta struct {
	raft.SnapshotMeta
	CRC []byte
}

// checkSnapshots checks every snapshot directory and finds the newest good
// one: the one hashicorp/raft restores at start.
func (v *verifier) checkSnapshots() {
	v.base = -1
	dir := filepath.Join(v.r.Dir, snapDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		v.problem(ProblemFatal, dir, "%v", err)
		return
	}
	var confs []snapConf
	for _, e := range entries {
		switch name := e.Name(); {
		case !e.IsDir():
		case strings.HasSuffix(name, snapTmpSuffix):
			v.note("%s: an unfinished snapshot, which hashicorp/raft ignores", filepath.Join(dir, name))
		default:
			s, conf := v.checkSnapshot(filepath.Join(dir, name), name)
			v.r.Snapshots = append(v.r.Snapshots, s)
			confs = append(confs, conf)
		}
	}
	order := make([]int, len(v.r.Snapshots))
	for i := range order {
		order[i] = i
	}
	// Newest first, as raft sorts them: by term, index, then ID.
	slices.SortFunc(order, func(i, j int) int {
		a, b := v.r.Snapshots[i], v.r.Snapshots[j]
		return cmp.Or(cmp.Compare(b.Term, a.Term), cmp.Compare(b.Index, a.Index), strings.Compare(b.ID, a.ID))
	})
	sorted := make([]SnapshotReport, len(order))
	for k, i := range order {
		sorted[k] = v.r.Snapshots[i]
		if sorted[k].OK && v.base < 0 {
			v.base = k
			v.setVoters(confs[i].conf, confs[i].index)
		}
	}
	v.r.Snapshots = sorted
}

type snapConf struct {
	conf  raft.Configuration
	index uint64
}

// checkSnapshot checks one snapshot directory as raft.FileSnapshotStore
// reads it (meta.json, then state.bin against its CRC) and, with Full,
// restores it.
func (v *verifier) checkSnapshot(path, id string) (SnapshotReport, snapConf) {
	s := SnapshotReport{ID: id, Path: path}
	_, _ = fmt.Sscanf(id, "%d-%d-", &s.Term, &s.Index) // until meta.json says
	if st, err := os.Stat(filepath.Join(path, snapStateFile)); err == nil {
		s.Size = st.Size()
	}
	var conf snapConf
	err := protect(func() error {
		m, err := readSnapMeta(filepath.Join(path, snapMetaFile))
		if err != nil {
			return fmt.Errorf("%s: %w", snapMetaFile, err)
		}
		s.Term, s.Index = m.Term, m.Index
		conf = snapConf{m.Configuration, m.ConfigurationIndex}
		switch {
		case m.Version < raft.SnapshotVersionMin || m.Version > raft.SnapshotVersionMax:
			return fmt.Errorf("%s: snapshot version %d, which hashicorp/raft skips", snapMetaFile, m.Version)
		case m.ID != id:
			return fmt.Errorf("%s: names snapshot %q, not its directory %q", snapMetaFile, m.ID, id)
		}
		if err := v.checkSnapState(&s, filepath.Join(path, snapStateFile), m); err != nil {
			return fmt.Errorf("%s: %w", snapStateFile, err)
		}
		return nil
	})
	if err != nil {
		s.Reason = err.Error()
		return s, snapConf{}
	}
	s.OK = true
	return s, conf
}

func readSnapMeta(path string) (*snapMeta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := &snapMeta{}
	// As raft reads it: the first JSON value; bytes after it are ignored.
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(m); err != nil {
		return nil, fmt.Errorf("does not parse (hashicorp/raft skips the snapshot): %v", err)
	}
	return m, nil
}

// checkSnapState checks state.bin's CRC-64 and size against the meta and,
// with Full, restores it into a throwaway state machine.
func (v *verifier) checkSnapState(s *SnapshotReport, path string, m *snapMeta) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	s.Size = n
	if sum := h.Sum(nil); !bytes.Equal(sum, m.CRC) {
		return fmt.Errorf("CRC mismatch (computed %x, meta.json says %x): hashicorp/raft refuses it", sum, m.CRC)
	}
	if n != m.Size {
		return fmt.Errorf("%d bytes, but meta.json says %d", n, m.Size)
	}
	if !v.opts.Full {
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := restoreSnapshot(v.r.Kind, bufio.NewReaderSize(f, 1<<16)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s.Restored = true
	return nil
}

// restoreSnapshot restores a snapshot's state into a throwaway state
// machine, as the replica's FSM does.
func restoreSnapshot(kind ReplicaKind, r io.Reader) error {
	if kind == ReplicaMeta {
		var st MetaState
		return json.NewDecoder(r).Decode(&st)
	}
	return fsm.New().Restore(r)
}
