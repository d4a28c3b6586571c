package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/streamraft/streamraft/fsm"
)

// The raft-boltdb/v2 buckets and hashicorp/raft's stable-store keys.
var (
	boltLogsBucket  = []byte("logs")
	boltConfBucket  = []byte("conf")
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

const (
	// maxEntryProblems caps the damaged entries listed one by one.
	maxEntryProblems = 10
	// maxGaps caps the gaps in a log that are tracked one by one.
	maxGaps = 100
)

// logScan is what reading a log in index order found.
type logScan struct {
	path               string // the log store (raft.db or wal/)
	first, last, count uint64
	gaps               []span // missing ranges inside [first, last]
	moreGaps           int
	prevTerm           uint64
	damaged            int // damaged entries
	// broken: the log could not be read to its end, so its extent is
	// unknown (its own problem says why).
	broken bool
}

// missingAfter is the indices in (base, last] the log does not hold.
func (s *logScan) missingAfter(base uint64) []span {
	if s.count == 0 {
		return nil
	}
	var out []span
	if s.first > base+1 {
		out = append(out, span{base + 1, s.first - 1})
	}
	for _, g := range s.gaps {
		if g.hi > base {
			out = append(out, span{max(g.lo, base+1), g.hi})
		}
	}
	return out
}

// lostUpTo says which indices in (base, idx] the log does not hold ("" if
// it holds them all): what a damaged snapshot at idx takes with it.
func (s *logScan) lostUpTo(missing []span, base, idx uint64) string {
	if idx <= base {
		return ""
	}
	if s.count == 0 {
		return fmt.Sprintf("is empty: %s were only in this snapshot", indices(span{base + 1, idx}))
	}
	var lost []span
	for _, m := range missing {
		if m.lo <= idx {
			lost = append(lost, span{m.lo, min(m.hi, idx)})
		}
	}
	if s.last < idx {
		lost = append(lost, span{max(s.last+1, base+1), idx})
	}
	if len(lost) == 0 {
		return ""
	}
	return "lacks " + indices(lost...) + ", which only this snapshot held"
}

// addLog records the log at idx (read with err). Indices must come in
// increasing order.
func (v *verifier) addLog(idx uint64, l *raft.Log, err error) {
	s := &v.log
	switch {
	case s.count > 0 && idx <= s.last:
		v.problem(ProblemFatal, s.path, "log index %d comes after index %d: the store's keys are out of order", idx, s.last)
		s.broken = true
		return
	case s.count == 0:
		s.first = idx
	case idx > s.last+1:
		if len(s.gaps) < maxGaps {
			s.gaps = append(s.gaps, span{s.last + 1, idx - 1})
		} else {
			s.moreGaps++
		}
	}
	s.last = idx
	s.count++
	if err != nil {
		v.entryProblem(idx, 0, "does not decode: %v", err)
		return
	}
	if l.Index != idx {
		v.entryProblem(idx, l.Term, "holds index %d", l.Index)
		return
	}
	if l.Term < s.prevTerm {
		v.entryProblem(idx, l.Term, "its term is below the term %d of the entry before", s.prevTerm)
	} else if v.r.CurrentTerm > 0 && l.Term > v.r.CurrentTerm {
		v.entryProblem(idx, l.Term, "its term is above the stable store's current term %d", v.r.CurrentTerm)
	}
	s.prevTerm = max(s.prevTerm, l.Term)
	if err := v.checkEntry(l); err != nil {
		v.entryProblem(idx, l.Term, "%v", err)
	}
}

// entryProblem reports a damaged log entry: fatal, since the replica's FSM
// would panic applying it (or a follower catching up from this log would).
func (v *verifier) entryProblem(idx, term uint64, format string, args ...any) {
	v.log.damaged++
	if v.log.damaged > maxEntryProblems {
		return
	}
	v.problem(ProblemFatal, v.log.path, "log index %d (term %d): %s", idx, term, fmt.Sprintf(format, args...))
}

// finishLog adds the summary problems of a scan.
func (v *verifier) finishLog() {
	if n := v.log.damaged - maxEntryProblems; n > 0 {
		v.problem(ProblemFatal, v.log.path, "and %d more damaged log %s", n, plural(n, "entry", "entries"))
	}
	if v.log.moreGaps > 0 {
		v.note("%s: %d more gaps in the log than listed", v.log.path, v.log.moreGaps)
	}
}

// checkEntry decodes l's payload as the replica would.
func (v *verifier) checkEntry(l *raft.Log) error {
	switch l.Type {
	case raft.LogCommand:
		if v.r.Kind == ReplicaMeta {
			return checkMetaEntry(l.Data)
		}
		_, err := fsm.DecodeEntry(l.Data)
		if err != nil {
			return fmt.Errorf("the shard's FSM panics applying it: %w", err)
		}
	case raft.LogConfiguration:
		c, err := decodeConfiguration(l.Data)
		if err != nil {
			return fmt.Errorf("hashicorp/raft panics reading this configuration: %w", err)
		}
		v.setVoters(c, l.Index)
	case raft.LogNoop, raft.LogBarrier, raft.LogAddPeerDeprecated, raft.LogRemovePeerDeprecated:
	default:
		return fmt.Errorf("unknown log type %d", l.Type)
	}
	return nil
}

// checkMetaEntry is the meta FSM's decoding (MetaState.apply panics where
// this returns an error).
func checkMetaEntry(data []byte) error {
	if !json.Valid(data) {
		return errors.New("the meta FSM panics applying it: not valid JSON")
	}
	var c metaCmd
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("the meta FSM panics applying it: %w", err)
	}
	if c.Version != metaCmdVersion {
		return fmt.Errorf("the meta FSM panics applying it: command version %d", c.Version)
	}
	return nil
}

// decodeConfiguration is raft.DecodeConfiguration, which panics on bytes
// it cannot decode, returning an error instead.
func decodeConfiguration(b []byte) (c raft.Configuration, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return raft.DecodeConfiguration(b), nil
}

// setVoters records c's voters if it is the latest configuration seen.
func (v *verifier) setVoters(c raft.Configuration, index uint64) {
	if index < v.votersIndex {
		return
	}
	v.votersIndex = index
	v.r.Voters = v.r.Voters[:0]
	for _, srv := range c.Servers {
		if srv.Suffrage == raft.Voter {
			v.r.Voters = append(v.r.Voters, string(srv.ID))
		}
	}
}

// checkBoltStore verifies a raft-boltdb/v2 file: bolt's own structure, the
// stable store, then every log in index order.
func (v *verifier) checkBoltStore(path string) {
	db, ok := v.openBolt(path)
	if !ok {
		return
	}
	defer db.Close()
	if !v.checkBoltFile(db, path) {
		v.log.broken = true
		return
	}
	if !v.readBoltStable(db, path) {
		v.log.broken = true
		return
	}
	// raft-boltdb decodes its logs (msgpack); a second read-only handle on
	// the same file shares the lock with the first.
	store, err := raftboltdb.New(raftboltdb.Options{Path: path,
		BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: v.opts.LockTimeout}})
	if err != nil {
		v.problem(ProblemFatal, path, "raft-boltdb cannot open it: %v", err)
		v.log.broken = true
		return
	}
	defer store.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		logs := tx.Bucket(boltLogsBucket)
		if logs == nil {
			return errors.New(`no "logs" bucket: hashicorp/raft panics reading the log`)
		}
		c := logs.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("a log key of %d bytes (%x): raft-boltdb keys are 8", len(k), k)
			}
			idx := binary.BigEndian.Uint64(k)
			var l raft.Log
			v.addLog(idx, &l, store.GetLog(idx, &l))
			if v.log.broken {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		v.problem(ProblemFatal, path, "%v", err)
		v.log.broken = true
	}
	v.finishLog()
}

// readBoltStable reads hashicorp/raft's term and vote from the conf bucket.
func (v *verifier) readBoltStable(db *bbolt.DB, path string) bool {
	err := db.View(func(tx *bbolt.Tx) error {
		conf := tx.Bucket(boltConfBucket)
		if conf == nil {
			return errors.New(`no "conf" bucket (the stable store): hashicorp/raft panics reading its term`)
		}
		for _, u := range []struct {
			key []byte
			dst *uint64
		}{{keyCurrentTerm, &v.r.CurrentTerm}, {keyLastVoteTerm, &v.r.LastVoteTerm}} {
			b := conf.Get(u.key)
			if b == nil {
				continue
			}
			if len(b) != 8 {
				return fmt.Errorf("stable store key %s holds %d bytes, not 8: hashicorp/raft panics reading it", u.key, len(b))
			}
			*u.dst = binary.BigEndian.Uint64(b)
		}
		v.r.LastVoteCand = string(conf.Get(keyLastVoteCand))
		return nil
	})
	if err != nil {
		v.problem(ProblemFatal, path, "%v", err)
		return false
	}
	return true
}
