package cluster

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// readIndex serves linearizable reads without writing to the log. Readers
// waiting at the same moment share ONE leadership round: the loop takes them
// all, records the commit index, confirms leadership with a single
// VerifyLeader, and hands each reader that index; each then waits until the
// machine has applied it and reads.
//
// Why it is enough: every write acknowledged before the read started was
// applied, hence committed, so its index is <= the recorded commit index; and
// VerifyLeader, run after recording it, proves no newer leader could have
// committed anything this node has not seen.
type readIndex struct {
	r        *raft.Raft
	applied  *appliedIndex
	ready    func() bool // leader, and an entry of this term is applied
	stop     <-chan struct{}
	raftDown <-chan struct{}

	mu      sync.Mutex
	waiting []chan readTicket
	kick    chan struct{}
	rounds  atomic.Uint64 // leadership rounds run (tests check sharing)
}

type readTicket struct {
	index uint64
	err   error
}

func newReadIndex(r *raft.Raft, applied *appliedIndex, ready func() bool, stop, raftDown <-chan struct{}) *readIndex {
	return &readIndex{r: r, applied: applied, ready: ready, stop: stop, raftDown: raftDown, kick: make(chan struct{}, 1)}
}

// barrier returns once the machine reflects every write committed before
// the call, or the error that prevents it.
func (ri *readIndex) barrier(ctx context.Context) error {
	ch := make(chan readTicket, 1)
	ri.mu.Lock()
	ri.waiting = append(ri.waiting, ch)
	ri.mu.Unlock()
	notify(ri.kick)
	var t readTicket
	select {
	case t = <-ch:
	case <-ctx.Done():
		return ctx.Err()
	case <-ri.stop:
		return ErrShutdown
	}
	if t.err != nil {
		return t.err
	}
	return ri.applied.wait(ctx, t.index, ri.stop)
}

// run is the loop that runs the shared rounds, until stop closes.
func (ri *readIndex) run() {
	for {
		select {
		case <-ri.kick:
		case <-ri.stop:
			return
		}
		ri.mu.Lock()
		batch := ri.waiting
		ri.waiting = nil
		ri.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		t := ri.round()
		for _, ch := range batch {
			ch <- t
		}
	}
}

func (ri *readIndex) round() readTicket {
	ri.rounds.Add(1)
	if !ri.ready() {
		if ri.r.State() == raft.Leader {
			// Elected, but no entry of this term applied yet: the commit
			// index may lag what an older leader acknowledged.
			return readTicket{err: ErrNoLeader}
		}
		return readTicket{err: leaderErr(ri.r)}
	}
	idx := ri.r.CommitIndex()
	if err := awaitFuture(ri.r.VerifyLeader(), ri.raftDown); err != nil {
		return readTicket{err: mapRaftErr(ri.r, err)}
	}
	return readTicket{index: idx}
}
