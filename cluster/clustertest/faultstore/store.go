package faultstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/hashicorp/raft"
)

// Store is a LogStore whose contents live in a Disk. It is safe for
// concurrent use.
type Store struct {
	disk *Disk
	f    *file
	name string
	mode SyncMode
	err  error         // ErrClosed or ErrPowerLost once the store is off; guarded by disk.mu
	stop chan struct{} // closed when the store goes off
	done chan struct{} // closed when the background flush (if any) ended
}

var _ LogStore = (*Store)(nil)

// stopLocked turns the store off with err; disk.mu is held.
func (s *Store) stopLocked(err error) {
	s.err = err
	s.f.open = nil
	close(s.stop)
}

// flushEvery is SyncEvery's background write-back; it ends when the store
// goes off.
func (s *Store) flushEvery(d time.Duration) {
	defer close(s.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.disk.mu.Lock()
			if s.err == nil {
				s.f.sync()
			}
			s.disk.mu.Unlock()
		case <-s.stop:
			return
		}
	}
}

// offLocked is the error for a call on a store that is off; disk.mu is
// held.
func (s *Store) offLocked() error {
	if s.err == nil {
		return nil
	}
	return fmt.Errorf("faultstore %s: %w", s.name, s.err)
}

// read runs fn on the file's current contents.
func (s *Store) read(fn func(*state) error) error {
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if err := s.offLocked(); err != nil {
		return err
	}
	return fn(s.f.cache)
}

// write applies o to the page cache, and makes it durable with SyncAlways.
func (s *Store) write(o op) error {
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if err := s.offLocked(); err != nil {
		return err
	}
	s.f.cache.apply(o)
	s.f.journal = append(s.f.journal, o)
	if s.mode == SyncAlways && !s.f.lazy {
		s.f.sync()
	}
	return nil
}

// Close closes the store. What it wrote stays in the Disk, durable or not:
// a process that exits leaves the page cache to the kernel. Close after
// Close or PowerLoss fails.
func (s *Store) Close() error {
	s.disk.mu.Lock()
	if err := s.offLocked(); err != nil {
		s.disk.mu.Unlock()
		return err
	}
	s.stopLocked(ErrClosed)
	s.disk.mu.Unlock()
	<-s.done
	return nil
}

// FirstIndex returns the first index written, 0 for an empty log.
func (s *Store) FirstIndex() (uint64, error) {
	var i uint64
	err := s.read(func(st *state) error { i = st.first; return nil })
	return i, err
}

// LastIndex returns the last index written, 0 for an empty log.
func (s *Store) LastIndex() (uint64, error) {
	var i uint64
	err := s.read(func(st *state) error { i = st.last; return nil })
	return i, err
}

// GetLog fills log with the entry at index, or returns raft.ErrLogNotFound.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	return s.read(func(st *state) error {
		l, ok := st.logs[index]
		if !ok {
			return raft.ErrLogNotFound
		}
		*log = *cloneLog(l)
		return nil
	})
}

// StoreLog stores one entry.
func (s *Store) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs stores entries (a copy of them), replacing any at the same
// indexes. With SyncNever the batch is what TornPowerLoss may tear.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	batch := make([]*raft.Log, len(logs))
	for i, l := range logs {
		batch[i] = cloneLog(l)
	}
	return s.write(op{kind: opStoreLogs, logs: batch})
}

// DeleteRange deletes the entries from min to max, inclusive.
func (s *Store) DeleteRange(min, max uint64) error {
	return s.write(op{kind: opDeleteRange, min: min, max: max})
}

// Set stores a copy of val under key.
func (s *Store) Set(key, val []byte) error {
	if len(key) == 0 {
		return errKeyRequired
	}
	return s.write(op{kind: opSet, key: string(key), val: bytes.Clone(val)})
}

// errKeyRequired is bbolt's answer to an empty key.
var errKeyRequired = errors.New("key required")

// Get returns a copy of the value under key, or ErrKeyNotFound. An empty
// value reads back as nil, as from raft-boltdb.
func (s *Store) Get(key []byte) ([]byte, error) {
	var val []byte
	err := s.read(func(st *state) error {
		v, ok := st.kv[string(key)]
		if !ok {
			return ErrKeyNotFound
		}
		val = append([]byte(nil), v...)
		return nil
	})
	return val, err
}

// SetUint64 stores val under key as 8 big-endian bytes.
func (s *Store) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the value SetUint64 stored under key, or
// ErrKeyNotFound. (raft-boltdb panics on a value that is not 8 bytes;
// Store returns an error.)
func (s *Store) GetUint64(key []byte) (uint64, error) {
	val, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(val) != 8 {
		return 0, fmt.Errorf("faultstore %s: key %q holds %d bytes, not a uint64", s.name, key, len(val))
	}
	return binary.BigEndian.Uint64(val), nil
}

// An op is one write, kept in a file's journal until it is durable.
type op struct {
	kind     opKind
	logs     []*raft.Log // opStoreLogs; never changed once stored
	min, max uint64      // opDeleteRange
	key      string      // opSet
	val      []byte      // opSet; never changed once stored
}

type opKind uint8

const (
	opStoreLogs opKind = iota + 1
	opDeleteRange
	opSet
)

// state is a file's contents: the log and the stable keys.
type state struct {
	logs        map[uint64]*raft.Log
	first, last uint64 // 0 when logs is empty
	kv          map[string][]byte
}

func newState() *state {
	return &state{logs: make(map[uint64]*raft.Log), kv: make(map[string][]byte)}
}

// clone copies st; the entries and values themselves are never changed,
// so the copies share them.
func (st *state) clone() *state {
	return &state{logs: maps.Clone(st.logs), first: st.first, last: st.last, kv: maps.Clone(st.kv)}
}

func (st *state) apply(o op) {
	switch o.kind {
	case opStoreLogs:
		st.storeLogs(o.logs)
	case opDeleteRange:
		st.deleteRange(o.min, o.max)
	case opSet:
		st.kv[o.key] = o.val
	default:
		panic(fmt.Sprintf("faultstore: unknown op %d", o.kind))
	}
}

func (st *state) storeLogs(logs []*raft.Log) {
	for _, l := range logs {
		st.logs[l.Index] = l
		if len(st.logs) == 1 || l.Index < st.first {
			st.first = l.Index
		}
		st.last = max(st.last, l.Index)
	}
}

// deleteRange deletes [lo, hi], walking whichever is shorter: the range or
// the log (raft deletes up to math.MaxUint64 when it drops a whole log).
func (st *state) deleteRange(lo, hi uint64) {
	if lo > hi || len(st.logs) == 0 {
		return
	}
	if hi-lo < uint64(len(st.logs)) {
		for i := lo; ; i++ {
			delete(st.logs, i)
			if i == hi {
				break
			}
		}
	} else {
		for i := range st.logs {
			if i >= lo && i <= hi {
				delete(st.logs, i)
			}
		}
	}
	if st.first >= lo && st.first <= hi || st.last >= lo && st.last <= hi {
		st.bounds()
	}
}

// bounds recomputes first and last.
func (st *state) bounds() {
	st.first, st.last = 0, 0
	for i := range st.logs {
		if st.first == 0 || i < st.first {
			st.first = i
		}
		st.last = max(st.last, i)
	}
}

// cloneLog copies l so that neither the caller nor the store sees the
// other change it (raft-boltdb serialises entries; InmemStore does not,
// and tests that mutate a stored entry would pass for the wrong reason).
func cloneLog(l *raft.Log) *raft.Log {
	c := *l
	c.Data = bytes.Clone(l.Data)
	c.Extensions = bytes.Clone(l.Extensions)
	return &c
}
