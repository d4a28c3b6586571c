package faultstore

import (
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// FaultyStore wraps a LogStore and fails its calls on demand: a disk that
// fills up (syscall.ENOSPC) or an fsync that fails (syscall.EIO). A failed
// call does not reach the inner store, and its error wraps the injected
// one (errors.Is(err, syscall.ENOSPC) holds). The methods are safe for
// concurrent use with each other and with the store's calls.
//
// What hashicorp/raft v1.7.2 does with a failed call: a failed StoreLogs
// on the leader fails the pending Applies and steps it down; on a follower
// it rejects the AppendEntries (the leader retries). A failed SetUint64 of
// the current term panics (raft.go setCurrentTerm), which every term change
// and NewRaft itself do; so FailWrites and FailStableWrites crash the
// process at its next term change, FailLogWrites does not.
type FaultyStore struct {
	inner        LogStore
	logWrites    atomic.Pointer[fault] // StoreLog, StoreLogs, DeleteRange
	stableWrites atomic.Pointer[fault] // Set, SetUint64
	reads        atomic.Pointer[fault] // FirstIndex, LastIndex, GetLog, Get, GetUint64
	failedWrites atomic.Uint64
	failedReads  atomic.Uint64
}

type fault struct{ err error }

var _ LogStore = (*FaultyStore)(nil)

// Faulty wraps inner; it passes every call through until told to fail.
func Faulty(inner LogStore) *FaultyStore { return &FaultyStore{inner: inner} }

// FailWrites makes every write (log and stable) return err from now on;
// nil lets writes through again. Reads keep working.
func (f *FaultyStore) FailWrites(err error) {
	f.FailLogWrites(err)
	f.FailStableWrites(err)
}

// FailLogWrites makes StoreLog, StoreLogs and DeleteRange return err from
// now on; nil lets them through again.
func (f *FaultyStore) FailLogWrites(err error) { set(&f.logWrites, err) }

// FailStableWrites makes Set and SetUint64 return err from now on; nil
// lets them through again. Raft panics when it cannot save a new term.
func (f *FaultyStore) FailStableWrites(err error) { set(&f.stableWrites, err) }

// FailReads makes FirstIndex, LastIndex, GetLog, Get and GetUint64 return
// err from now on; nil lets them through again. Raft panics when it cannot
// read an entry it must apply.
func (f *FaultyStore) FailReads(err error) { set(&f.reads, err) }

// Heal lets every call through again.
func (f *FaultyStore) Heal() {
	f.FailWrites(nil)
	f.FailReads(nil)
}

// FailedWrites is the number of writes failed on purpose so far.
func (f *FaultyStore) FailedWrites() uint64 { return f.failedWrites.Load() }

// FailedReads is the number of reads failed on purpose so far.
func (f *FaultyStore) FailedReads() uint64 { return f.failedReads.Load() }

func set(p *atomic.Pointer[fault], err error) {
	if err == nil {
		p.Store(nil)
		return
	}
	p.Store(&fault{err: err})
}

// check returns the injected error for call, if p holds one, and counts it.
func check(p *atomic.Pointer[fault], n *atomic.Uint64, call string) error {
	ft := p.Load()
	if ft == nil {
		return nil
	}
	n.Add(1)
	return fmt.Errorf("faultstore: %s: %w", call, ft.err)
}

func (f *FaultyStore) logWrite(call string) error {
	return check(&f.logWrites, &f.failedWrites, call)
}

func (f *FaultyStore) stableWrite(call string) error {
	return check(&f.stableWrites, &f.failedWrites, call)
}

func (f *FaultyStore) read(call string) error { return check(&f.reads, &f.failedReads, call) }

func (f *FaultyStore) FirstIndex() (uint64, error) {
	if err := f.read("FirstIndex"); err != nil {
		return 0, err
	}
	return f.inner.FirstIndex()
}

func (f *FaultyStore) LastIndex() (uint64, error) {
	if err := f.read("LastIndex"); err != nil {
		return 0, err
	}
	return f.inner.LastIndex()
}

func (f *FaultyStore) GetLog(index uint64, log *raft.Log) error {
	if err := f.read("GetLog"); err != nil {
		return err
	}
	return f.inner.GetLog(index, log)
}

func (f *FaultyStore) StoreLog(log *raft.Log) error {
	if err := f.logWrite("StoreLog"); err != nil {
		return err
	}
	return f.inner.StoreLog(log)
}

func (f *FaultyStore) StoreLogs(logs []*raft.Log) error {
	if err := f.logWrite("StoreLogs"); err != nil {
		return err
	}
	return f.inner.StoreLogs(logs)
}

func (f *FaultyStore) DeleteRange(min, max uint64) error {
	if err := f.logWrite("DeleteRange"); err != nil {
		return err
	}
	return f.inner.DeleteRange(min, max)
}

func (f *FaultyStore) Set(key, val []byte) error {
	if err := f.stableWrite("Set"); err != nil {
		return err
	}
	return f.inner.Set(key, val)
}

func (f *FaultyStore) Get(key []byte) ([]byte, error) {
	if err := f.read("Get"); err != nil {
		return nil, err
	}
	return f.inner.Get(key)
}

func (f *FaultyStore) SetUint64(key []byte, val uint64) error {
	if err := f.stableWrite("SetUint64"); err != nil {
		return err
	}
	return f.inner.SetUint64(key, val)
}

func (f *FaultyStore) GetUint64(key []byte) (uint64, error) {
	if err := f.read("GetUint64"); err != nil {
		return 0, err
	}
	return f.inner.GetUint64(key)
}

// Close closes the inner store; it never fails on purpose, so a test can
// always release what it opened.
func (f *FaultyStore) Close() error { return f.inner.Close() }
