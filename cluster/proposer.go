package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/fsm"
)

// Group-commit limits. A Raft entry costs a bolt transaction whatever its
// size, so the proposer packs every request queued while the previous entry
// was in flight into the next one (see DESIGN.md).
const (
	// maxInFlight is how many entries may be proposed and not yet applied.
	// One keeps the stamp order trivially equal to the apply order and is
	// what DESIGN.md measured; raise it only with a benchmark.
	maxInFlight = 1
	// maxBatchBytes caps an entry's encoded size (a lone larger request
	// still goes out, alone).
	maxBatchBytes = 4 << 20
	// maxBatchReqs caps the requests in one entry.
	maxBatchReqs = 4096
	// queueLen is how many requests may wait for the proposer before
	// callers block (backpressure).
	queueLen = 8192
	// maxLinger bounds how long a batch waits for the callers the previous
	// entry just answered to send their next request (see linger); it is
	// also never more than the recent commit time.
	maxLinger = 5 * time.Millisecond
)

// proposal is one caller's request waiting for its reply.
type proposal struct {
	ctx  context.Context
	req  fsm.Request
	size int
	done chan result // buffered(1): the proposer never blocks on a caller
}

type result struct {
	reply fsm.Reply
	err   error
}

// flight is an entry handed to Raft, and who waits for its replies.
type flight struct {
	f       raft.ApplyFuture
	data    []byte // the entry's bytes, to recognise it in the log (resolve)
	batch   []*proposal
	started time.Time
}

// proposer is the one goroutine per shard that owns proposing. Callers
// enqueue; the proposer drains everything queued into one fsm.Entry as soon
// as an in-flight slot is free (never on a timer, so a lone client pays no
// waiting), proposes it, and a responder goroutine answers each caller with
// its own reply, in order.
//
// A caller whose ctx ends while its request is still queued is skipped. Once
// proposed, a request may still commit after its caller gave up: that
// caller's answer is lost, but the write happened (as with any database whose
// client times out after sending a command).
type proposer struct {
	r        *raft.Raft
	logger   *slog.Logger
	queue    chan *proposal
	stop     <-chan struct{}
	raftDown <-chan struct{} // closed once raft.Shutdown returned
	exited   chan struct{}   // closed when every queued caller has been answered
	inflight chan struct{}   // semaphore of maxInFlight slots
	flights  chan flight
	stamp    int64            // last stamp proposed; stamps never go backwards
	clock    func() time.Time // the wall clock that stamps entries

	// expect is how many requests the next batch may wait for: those the
	// last entry answered (their callers are likely to send again at
	// once) plus those already queued when it was answered. Set by the
	// responder before it frees the in-flight slot.
	expect atomic.Int64
	// commitNanos is a moving average of an entry's propose-to-apply time.
	commitNanos atomic.Int64
	// replicated: the group had other voters when the last entry was
	// answered (see observe); only then does a batch linger.
	replicated atomic.Bool

	entries  atomic.Uint64 // entries proposed
	requests atomic.Uint64 // requests proposed

	// resolve finds out what became of an entry proposed at index whose
	// future failed (Shard.resolve); nil answers every such entry
	// ErrUncertain. resolving counts the resolutions under way.
	resolve   func(index uint64, data []byte) ([]fsm.Reply, error)
	resolving sync.WaitGroup
	resolved  [resolutionKinds]atomic.Uint64
}

func newProposer(r *raft.Raft, stop, raftDown <-chan struct{}, logger *slog.Logger) *proposer {
	return &proposer{
		r:        r,
		logger:   logger,
		queue:    make(chan *proposal, queueLen),
		stop:     stop,
		raftDown: raftDown,
		exited:   make(chan struct{}),
		inflight: make(chan struct{}, maxInFlight),
		flights:  make(chan flight, maxInFlight),
		clock:    time.Now,
	}
}

// start runs the proposer and its responder until stop closes.
func (p *proposer) start() {
	respDone := make(chan struct{})
	go func() {
		defer close(respDone)
		p.respond()
	}()
	go func() {
		p.run()
		close(p.flights)
		<-respDone
		p.resolving.Wait() // they end once Raft is down, if not before
		p.drainShutdown()
		close(p.exited)
	}()
}

// Propose queues req and waits for its reply.
func (p *proposer) Propose(ctx context.Context, req fsm.Request) (fsm.Reply, error) {
	return p.Submit(ctx, req)()
}

// Submit queues req and returns a function that waits for its reply.
// Requests one goroutine submits one after another are applied in that
// order (the queue is FIFO and entries are applied in order), so a
// connection can have its whole pipeline in the log at once.
func (p *proposer) Submit(ctx context.Context, req fsm.Request) (wait func() (fsm.Reply, error)) {
	pr := &proposal{ctx: ctx, req: req, size: requestSize(req), done: make(chan result, 1)}
	// The non-blocking attempts first: under load the queue has room and a
	// pipelined caller's reply is often in already, and a one-case select
	// costs far less than the three-way one (a tenth of a pipelined
	// leader's CPU went to selectgo).
	select {
	case p.queue <- pr:
	default:
		select {
		case p.queue <- pr:
		case <-ctx.Done():
			return failed(ctx.Err())
		case <-p.stop:
			return failed(ErrShutdown)
		}
	}
	return func() (fsm.Reply, error) {
		select {
		case r := <-pr.done:
			return r.reply, r.err
		default:
		}
		select {
		case r := <-pr.done:
			return r.reply, r.err
		case <-ctx.Done():
			return fsm.Reply{}, ctx.Err()
		case <-p.exited:
			select {
			case r := <-pr.done:
				return r.reply, r.err
			default:
				return fsm.Reply{}, ErrShutdown
			}
		}
	}
}

// failed is a Submit result that answers err.
func failed(err error) func() (fsm.Reply, error) {
	return func() (fsm.Reply, error) { return fsm.Reply{}, err }
}

func (p *proposer) run() {
	var carry *proposal
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-p.queue:
			case <-p.stop:
				return
			}
		}
		select {
		case p.inflight <- struct{}{}:
		case <-p.stop:
			first.done <- result{err: ErrShutdown}
			return
		}
		var b batcher
		carry = p.drain(&b, first)
		if carry == nil {
			carry = p.linger(&b)
		}
		batch := b.reqs
		if len(batch) == 0 {
			<-p.inflight
			continue
		}
		p.propose(batch)
	}
}

// batcher collects the requests of the next entry.
type batcher struct {
	reqs  []*proposal
	bytes int
}

// add takes pr into the batch, or answers it at once if its caller already
// gave up. It reports false, taking nothing, when pr would overflow the
// byte cap of a non-empty batch: pr then leads the next one.
func (b *batcher) add(pr *proposal) bool {
	if len(b.reqs) > 0 && b.bytes+pr.size > maxBatchBytes {
		return false
	}
	if pr.ctx.Err() != nil {
		pr.done <- result{err: pr.ctx.Err()}
		return true
	}
	b.reqs = append(b.reqs, pr)
	b.bytes += pr.size
	return true
}

// full reports whether the batch reached its request cap.
func (b *batcher) full() bool { return len(b.reqs) >= maxBatchReqs }

// drain takes first and whatever else is queued, up to the batch limits.
// A request that would overflow the byte cap is returned as carry.
func (p *proposer) drain(b *batcher, first *proposal) (carry *proposal) {
	b.add(first)
	for !b.full() {
		select {
		case pr := <-p.queue:
			if !b.add(pr) {
				return pr
			}
		default:
			return nil
		}
	}
	return nil
}

// linger waits, briefly, for the callers the previous entry answered.
//
// With one entry in flight, callers fall into two groups that take turns:
// while entry k commits, the callers k-1 answered queue up for k+1, and the
// callers k answers arrive a moment after k+1 was cut, so each waits a
// whole extra commit. Waiting for them (a reply and the next request: a
// millisecond or two under load on 2 cores) puts everybody in one entry:
// about twice the requests per fsync and per replication round. The wait
// ends as soon as the expected count is queued, so a lone client, which
// expects only itself, never waits; and it is bounded by maxLinger and the
// recent commit time.
//
// Only a replicated group lingers: there an entry also costs every follower
// a round of work, and a 3-node cluster on 2 cores took 29% more XADDs/s
// with it (raft-boltdb; 13% with raft-wal). A lone voter's entry costs one
// local fsync, which overlaps better with the replies of the entry before:
// lingering there cost 8-12% (README, Performance).
func (p *proposer) linger(b *batcher) (carry *proposal) {
	want := int(p.expect.Load())
	if !p.replicated.Load() || len(b.reqs) >= want || b.full() {
		return nil
	}
	wait := min(maxLinger, time.Duration(p.commitNanos.Load()))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for len(b.reqs) < want && !b.full() {
		select {
		case pr := <-p.queue:
			if !b.add(pr) {
				return pr
			}
		case <-t.C:
			return nil
		case <-p.stop:
			return nil
		}
	}
	return nil
}

func (p *proposer) propose(batch []*proposal) {
	if p.r.State() != raft.Leader {
		p.fail(batch, leaderErr(p.r))
		<-p.inflight
		return
	}
	p.stamp = max(p.clock().UnixMilli(), p.stamp)
	e := fsm.Entry{Stamp: p.stamp, Reqs: make([]fsm.Request, len(batch))}
	size := 16
	for i, pr := range batch {
		e.Reqs[i] = pr.req
		size += pr.size
	}
	data := e.AppendEncode(make([]byte, 0, size))
	p.entries.Add(1)
	p.requests.Add(uint64(len(batch)))
	p.flights <- flight{f: p.r.Apply(data, 0), data: data, batch: batch, started: time.Now()}
}

// respond waits for each flight in order and answers its callers.
func (p *proposer) respond() {
	for fl := range p.flights {
		err, done := p.await(fl.f)
		switch {
		case err == nil:
			p.answer(fl)
		case !done:
			// Raft shut down with the entry in flight: it may have
			// committed, and nobody here can tell any more.
			p.resolved[resolvedUnknown].Add(1)
			p.fail(fl.batch, fmt.Errorf("%w: raft shut down while the write was in flight", ErrUncertain))
		case fl.f.Index() == 0:
			// Refused before it reached the log (not the leader, a
			// leadership transfer under way): not applied.
			p.fail(fl.batch, mapRaftErr(p.r, err))
		default:
			// In the log, fate unknown: leadership was lost before it
			// committed, or the disk failed. Resolve it off this
			// goroutine; the next entries go on meanwhile (and fail
			// too, until a new leader is known).
			p.resolving.Add(1)
			go func() {
				defer p.resolving.Done()
				p.settle(fl, err)
			}()
		}
		p.observe(fl)
		<-p.inflight
	}
}

// answer hands each caller of a committed flight its reply.
func (p *proposer) answer(fl flight) {
	replies, ok := fl.f.Response().([]fsm.Reply)
	if !ok || len(replies) != len(fl.batch) {
		p.logger.Error("apply returned a bad response", "index", fl.f.Index(), "requests", len(fl.batch))
		p.fail(fl.batch, fmt.Errorf("cluster: apply at index %d returned %T for %d requests", fl.f.Index(), fl.f.Response(), len(fl.batch)))
		return
	}
	for i, pr := range fl.batch {
		pr.done <- result{reply: replies[i]}
	}
}

// The outcomes of resolutions (Shard.resolve), counted for Status.
const (
	resolvedCommitted = iota // the entry committed: its callers got their replies
	resolvedDiscarded        // another entry took its place: redirect
	resolvedUnknown          // not known within resolveWait: ErrUncertain
	resolutionKinds
)

// settle answers the callers of an entry that reached the log but whose
// future failed with err: their replies if it committed, the redirect if
// another entry took its index (it was not applied, so a redirect is
// true), ErrUncertain if that cannot be told in time.
func (p *proposer) settle(fl flight, err error) {
	idx := fl.f.Index()
	if p.resolve == nil {
		p.resolved[resolvedUnknown].Add(1)
		p.fail(fl.batch, fmt.Errorf("%w: %w", ErrUncertain, err))
		return
	}
	replies, rerr := p.resolve(idx, fl.data)
	switch {
	case rerr == nil && len(replies) == len(fl.batch):
		p.resolved[resolvedCommitted].Add(1)
		p.logger.Info("a write whose leader changed committed after all; answering it", "index", idx, "requests", len(fl.batch))
		for i, pr := range fl.batch {
			pr.done <- result{reply: replies[i]}
		}
	case errors.Is(rerr, errDiscarded):
		p.resolved[resolvedDiscarded].Add(1)
		p.fail(fl.batch, fmt.Errorf("%w: %w", leaderErr(p.r), err))
	default:
		p.resolved[resolvedUnknown].Add(1)
		p.logger.Warn("a write's outcome is unknown: its callers are told so", "index", idx, "requests", len(fl.batch), "err", rerr)
		p.fail(fl.batch, fmt.Errorf("%w: %w", ErrUncertain, err))
	}
}

// observe records what the next batch's linger needs: how many callers fl
// answered (plus those queued meanwhile), how long it took to commit, and
// whether the group has other voters (Raft keeps its latest configuration
// in memory, so asking costs a copy of a few servers per entry).
func (p *proposer) observe(fl flight) {
	p.expect.Store(int64(len(fl.batch) + len(p.queue)))
	p.replicated.Store(len(voterIDs(p.r.GetConfiguration().Configuration().Servers)) > 1)
	took := int64(time.Since(fl.started))
	if avg := p.commitNanos.Load(); avg > 0 {
		took = avg + (took-avg)/8
	}
	p.commitNanos.Store(took)
}

// await waits for f, or gives up once raftDown closed; done reports
// whether f was answered (see awaitFuture).
func (p *proposer) await(f raft.ApplyFuture) (err error, done bool) {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return err, true
	case <-p.raftDown:
		select {
		case err := <-ch:
			return err, true
		default:
			return raft.ErrRaftShutdown, false
		}
	}
}

func (p *proposer) fail(batch []*proposal, err error) {
	for _, pr := range batch {
		pr.done <- result{err: err}
	}
}

// drainShutdown answers everybody still queued once the proposer stopped.
func (p *proposer) drainShutdown() {
	for {
		select {
		case pr := <-p.queue:
			pr.done <- result{err: ErrShutdown}
		default:
			return
		}
	}
}

// requestSize estimates a request's encoded size.
func requestSize(req fsm.Request) int {
	n := 4
	for _, argv := range req.Cmds {
		n += 2
		for _, a := range argv {
			n += len(a) + 2
		}
	}
	for _, w := range req.Watch {
		n += len(w.Key) + 12
	}
	return n
}

// awaitFuture waits for f. Raft does not answer futures whose entries were
// committed but not yet applied when it shut down, so once raftDown closes
// this stops waiting and reports raft.ErrRaftShutdown: the goroutine left
// behind ends if Raft ever answers, and the process is stopping anyway.
func awaitFuture(f raft.Future, raftDown <-chan struct{}) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-raftDown:
		select {
		case err := <-done:
			return err
		default:
			return raft.ErrRaftShutdown
		}
	}
}

// leaderErr says why this node cannot serve: nobody leads, or somebody else.
func leaderErr(r *raft.Raft) error {
	if addr, _ := r.LeaderWithID(); addr == "" {
		return ErrNoLeader
	}
	return ErrNotLeader
}

// mapRaftErr turns a raft future's error into a cluster error.
func mapRaftErr(r *raft.Raft, err error) error {
	switch {
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrShutdown, err)
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrAbortedByRestore):
		return fmt.Errorf("%w: %w", leaderErr(r), err)
	default:
		return fmt.Errorf("cluster: raft: %w", err)
	}
}
