package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/fsm"
)

// shardFSM is the thin raft.FSM adapter around an fsm.Machine: decode the
// entry, apply it, wake the blocked readers of the keys it touched, return
// the replies as the log's response. It also tracks the applied index that
// read-index waits on.
type shardFSM struct {
	m       *fsm.Machine
	waits   *WaitRegistry
	applied appliedIndex
}

var _ raft.BatchingFSM = (*shardFSM)(nil)

// Apply applies one committed log. Only LogCommand entries reach it.
func (f *shardFSM) Apply(l *raft.Log) any {
	resp := f.apply(l)
	f.applied.advance(l.Index)
	return resp
}

// ApplyBatch applies consecutive committed logs (commands and configuration
// changes) and returns one response per log.
func (f *shardFSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	for i, l := range logs {
		out[i] = f.apply(l)
	}
	if n := len(logs); n > 0 {
		f.applied.advance(logs[n-1].Index)
	}
	return out
}

func (f *shardFSM) apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	e, err := fsm.DecodeEntry(l.Data)
	if err != nil {
		// An entry this binary cannot read means a bug or a corrupted log:
		// applying around it would make this replica diverge.
		panic(fmt.Sprintf("cluster: undecodable log entry at index %d term %d: %v", l.Index, l.Term, err))
	}
	replies, signalled := f.m.Apply(e)
	f.waits.Signal(signalled)
	return replies
}

// Snapshot captures a frozen view quickly; Persist does the I/O.
func (f *shardFSM) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{s: f.m.Snapshot()}, nil
}

// Restore replaces the machine's state with a snapshot.
func (f *shardFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.m.Restore(bufio.NewReaderSize(rc, 1<<16)); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	return nil
}

type fsmSnapshot struct{ s *fsm.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriterSize(sink, 1<<16)
	if _, err := s.s.WriteTo(w); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := w.Flush(); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("flush snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("close snapshot: %w", err)
	}
	return nil
}

func (s *fsmSnapshot) Release() {}

// appliedIndex is the highest log index whose effects the machine holds.
// Waiters block until it reaches a target; each advance wakes them all by
// closing a channel (cheap: at most one close per applied batch).
type appliedIndex struct {
	mu    sync.Mutex
	index uint64
	ch    chan struct{}
}

// advance raises the index to i (never lowers it) and wakes the waiters.
func (a *appliedIndex) advance(i uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i <= a.index {
		return
	}
	a.index = i
	if a.ch != nil {
		close(a.ch)
		a.ch = nil
	}
}

// get returns the current applied index.
func (a *appliedIndex) get() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.index
}

// wait blocks until the index reaches i, ctx ends or stop closes.
func (a *appliedIndex) wait(ctx context.Context, i uint64, stop <-chan struct{}) error {
	for {
		a.mu.Lock()
		if a.index >= i {
			a.mu.Unlock()
			return nil
		}
		if a.ch == nil {
			a.ch = make(chan struct{})
		}
		ch := a.ch
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrShutdown
		}
	}
}
