package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
)

// raft-wal v0.4.0's segment format (segment/format.go).
const (
	walFileHeader  = 32
	walFrameHeader = 8
	walFrameEntry  = 1
	walFrameCommit = 3
	walSegmentExt  = ".wal"
)

// checkWALStore verifies a raft-wal directory: its meta store (a bolt
// file), that every segment it lists exists, what raft-wal's recovery
// drops from the tail segment, then every log from the first to the last.
// raft-wal checks a CRC only over the last commit of the tail segment, so
// a damaged entry elsewhere is found by decoding it (shards: the entry
// checksum).
func (v *verifier) checkWALStore(dir string) {
	unlock, err := lockDir(dir, v.opts.LockTimeout)
	if errors.Is(err, ErrInUse) {
		v.problem(ProblemInUse, dir, "in use by another process (its lock was not released within %v)", v.opts.LockTimeout)
		return
	}
	if err != nil {
		v.problem(ProblemFatal, dir, "%v", err)
		v.log.broken = true
		return
	}
	defer unlock()
	state, meta, ok := v.loadWALMeta(dir)
	if meta == nil {
		return
	}
	defer meta.Close()
	if !ok {
		v.log.broken = true
		return
	}
	var tail *walTail
	if n := len(state.Segments); n > 0 && state.Segments[n-1].SealTime.IsZero() {
		tail, ok = v.scanWALTail(dir, state.Segments[n-1])
		if !ok {
			v.log.broken = true
			return
		}
	}
	w, err := wal.Open(dir, wal.WithMetaStore(meta), wal.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		v.problem(ProblemFatal, dir, "raft-wal cannot open it: %v", err)
		v.log.broken = true
		return
	}
	defer w.Close()
	v.readWAL(w, dir)
	if tail != nil {
		v.judgeWALTail(tail, v.log.last)
	}
}

// loadWALMeta checks and loads raft-wal's meta store, and checks that every
// segment it lists is there. meta is nil when there is none to close.
func (v *verifier) loadWALMeta(dir string) (types.PersistentState, *metadb.BoltMetaDB, bool) {
	var none types.PersistentState
	metaPath := filepath.Join(dir, metadb.FileName)
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+walSegmentExt))
	if !exists(metaPath) {
		if len(segs) > 0 {
			v.problem(ProblemFatal, metaPath, "missing: raft-wal would start an empty log and delete the %d segment files", len(segs))
			v.log.broken = true
		}
		return none, nil, false
	}
	db, ok := v.openBolt(metaPath)
	if !ok {
		return none, nil, false
	}
	ok = v.checkBoltFile(db, metaPath)
	_ = db.Close()
	if !ok {
		v.log.broken = true
		return none, nil, false
	}
	meta := &metadb.BoltMetaDB{}
	state, err := meta.Load(dir)
	if err != nil {
		v.problem(ProblemFatal, metaPath, "raft-wal cannot load it: %v", err)
		return none, meta, false
	}
	ok = true
	for i, si := range state.Segments {
		path := filepath.Join(dir, segment.FileName(si))
		if exists(path) {
			continue
		}
		what := "raft-wal refuses to open the log"
		if i == len(state.Segments)-1 && si.SealTime.IsZero() {
			what = "raft-wal would create it empty and lose its entries"
		}
		v.problem(ProblemFatal, path, "missing (listed in %s): %s", metadb.FileName, what)
		ok = false
	}
	return state, meta, ok
}

// readWAL reads the stable store and every log of an open raft-wal.
func (v *verifier) readWAL(w *wal.WAL, dir string) {
	var err error
	if v.r.CurrentTerm, err = w.GetUint64(keyCurrentTerm); err != nil {
		v.problem(ProblemFatal, dir, "stable store %s: %v", keyCurrentTerm, err)
	}
	if v.r.LastVoteTerm, err = w.GetUint64(keyLastVoteTerm); err != nil {
		v.problem(ProblemFatal, dir, "stable store %s: %v", keyLastVoteTerm, err)
	}
	cand, _ := w.Get(keyLastVoteCand)
	v.r.LastVoteCand = string(cand)
	first, err1 := w.FirstIndex()
	last, err2 := w.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		v.problem(ProblemFatal, dir, "%v", err)
		v.log.broken = true
		return
	}
	for idx := first; first > 0 && idx <= last; idx++ {
		var l raft.Log
		err := w.GetLog(idx, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			continue // a gap
		}
		v.addLog(idx, &l, err)
		if v.log.broken {
			break
		}
	}
	v.finishLog()
}

// walTail is what a scan of the tail segment found, before raft-wal's
// recovery.
type walTail struct {
	path      string
	info      types.SegmentInfo
	size      int64
	entries   uint64 // entry frames, committed or not
	cutFrame  bool   // the file ends inside a frame
	truncated bool   // shorter than the size raft-wal preallocates
}

// scanWALTail counts the entry frames of the tail segment as raft-wal's
// recovery reads them (frames until zeros, a bad header or the end).
func (v *verifier) scanWALTail(dir string, si types.SegmentInfo) (*walTail, bool) {
	t := &walTail{path: filepath.Join(dir, segment.FileName(si)), info: si}
	f, err := os.Open(t.path)
	if err != nil {
		v.problem(ProblemFatal, t.path, "%v", err)
		return nil, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		v.problem(ProblemFatal, t.path, "%v", err)
		return nil, false
	}
	t.size = st.Size()
	t.truncated = si.SizeLimit > 0 && t.size < int64(si.SizeLimit)
	var hdr [walFrameHeader]byte
	for off := int64(walFileHeader); ; {
		if n, _ := f.ReadAt(hdr[:], off); n < walFrameHeader {
			t.cutFrame = n > 0
			break
		}
		typ, length := hdr[0], binary.LittleEndian.Uint32(hdr[4:])
		if typ == 0 || typ > walFrameCommit {
			break
		}
		size := int64(walFrameHeader)
		if typ != walFrameCommit {
			size += int64(length) + int64((walFrameHeader-length%walFrameHeader)%walFrameHeader)
		}
		if typ == walFrameEntry {
			t.entries++
		}
		if off+size > t.size {
			t.cutFrame = true
			break
		}
		off += size
	}
	return t, true
}

// judgeWALTail compares the tail segment's entry frames with what raft-wal
// recovered (the log now ends at last). A torn last write in a segment of
// full size is a crash raft-wal was built for (the entries were never
// synced, so never acknowledged); a segment shorter than raft-wal made it
// was cut after the fact, and what it held is gone without a trace.
func (v *verifier) judgeWALTail(t *walTail, last uint64) {
	var kept uint64
	if last >= t.info.BaseIndex {
		kept = last - t.info.BaseIndex + 1
	}
	var dropped string
	if t.entries > kept {
		n := t.entries - kept
		dropped = fmt.Sprintf("raft-wal dropped %d %s (%s) after its last complete commit",
			n, plural(int(n), "entry", "entries"), indices(span{t.info.BaseIndex + kept, t.info.BaseIndex + t.entries - 1}))
	}
	switch {
	case t.truncated:
		what := []string{fmt.Sprintf("truncated: %d bytes, but raft-wal preallocates its segments to %d", t.size, t.info.SizeLimit)}
		if dropped != "" {
			what = append(what, dropped)
		}
		what = append(what, fmt.Sprintf("the log now ends at index %d and whatever followed is lost", last))
		v.problem(ProblemFatal, t.path, "%s", strings.Join(what, "; "))
	case dropped != "":
		v.note("%s: %s: a write torn by a crash, never acknowledged", t.path, dropped)
	case t.cutFrame:
		v.note("%s: ends inside a frame past the last commit", t.path)
	}
}
