package cluster

import (
	"bufio"
	"context"
	"fmt"
	"hash/maphash"
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
	m        *fsm.Machine
	waits    *WaitRegistry
	applied  appliedIndex
	outcomes outcomes
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
	f.outcomes.record(l.Index, l.Data, replies)
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

// outcomes remembers the replies of the last entries the machine applied,
// by log index, and hands them to whoever waits for an index: a proposer
// that lost its leadership before it learned whether its entry committed
// (Shard.resolve) finds out here, once the log settles under the next
// leader, whether the entry applied at that index was its own.
type outcomes struct {
	once  sync.Once
	seed  maphash.Seed
	mu    sync.Mutex
	ring  [outcomeRing]outcome
	next  int
	waits map[uint64]chan outcome
}

// outcomeRing is how many applied entries are remembered: a proposer asks
// about its entry right after its future failed, long before the next
// leader can commit and apply much (it must be elected first), so a few
// suffice.
const outcomeRing = 16

// outcome is what was applied at a log index.
type outcome struct {
	index   uint64
	hash    uint64 // of the entry's bytes
	replies []fsm.Reply
}

func (o *outcomes) init() { o.once.Do(func() { o.seed = maphash.MakeSeed() }) }

// hash is the hash the ring keeps of an entry's bytes.
func (o *outcomes) hash(data []byte) uint64 {
	o.init()
	return maphash.Bytes(o.seed, data)
}

func (o *outcomes) record(index uint64, data []byte, replies []fsm.Reply) {
	out := outcome{index: index, hash: o.hash(data), replies: replies}
	o.mu.Lock()
	o.ring[o.next] = out
	o.next = (o.next + 1) % outcomeRing
	ch := o.waits[index]
	delete(o.waits, index)
	o.mu.Unlock()
	if ch != nil {
		ch <- out
	}
}

// watch returns a channel that receives what is applied at index (at once
// if it is still remembered), and a function that stops the watch.
func (o *outcomes) watch(index uint64) (<-chan outcome, func()) {
	ch := make(chan outcome, 1)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, out := range o.ring {
		if out.index == index && index != 0 {
			ch <- out
			return ch, func() {}
		}
	}
	if o.waits == nil {
		o.waits = map[uint64]chan outcome{}
	}
	o.waits[index] = ch
	return ch, func() {
		o.mu.Lock()
		if o.waits[index] == ch {
			delete(o.waits, index)
		}
		o.mu.Unlock()
	}
}
