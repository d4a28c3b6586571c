package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/fsm"
)

func TestWriteThenReadBack(t *testing.T) {
	s := openShard(t, testShardConfig(t.TempDir()))
	woken, cancel := s.Watch([]string{"s"})
	defer cancel()
	steps := []struct {
		write []string
		read  []string
		want  string
	}{
		{write: []string{"XADD", "s", "1-1", "f", "v"}, want: `"1-1"`},
		{write: []string{"XADD", "s", "2-1", "g", "w"}, want: `"2-1"`},
		{read: []string{"XLEN", "s"}, want: ":2"},
		{read: []string{"XRANGE", "s", "-", "+", "COUNT", "1"}, want: `[6:[6:"1-1" [6:"f" "v"]]]`},
	}
	for _, st := range steps {
		var got string
		if st.write != nil {
			got = show(write(t, s, st.write...))
		} else {
			got = show(read(t, s, st.read...))
		}
		if got != st.want {
			t.Errorf("%q %q = %s; want %s", st.write, st.read, got, st.want)
		}
	}
	select {
	case <-woken:
	default:
		t.Errorf("XADD s did not signal the watcher of s")
	}
}

// TestGroupCommit runs 50 concurrent writers on one stream: each must get
// its own reply (a fresh ID, increasing in the order it sent), and the
// proposer must have packed the requests into fewer log entries.
func TestGroupCommit(t *testing.T) {
	s := openShard(t, testShardConfig(t.TempDir()))
	const writers, each = 50, 20
	ids := make([][]string, writers)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
				r, err := s.Write(ctx, cmd("XADD", "s", "*", "w", fmt.Sprint(w), "i", fmt.Sprint(i)))
				cancel()
				if err != nil || r.Kind != fsm.KindBulk {
					errs <- fmt.Errorf("writer %d XADD %d = %s, %v; want an ID", w, i, show(r), err)
					return
				}
				ids[w] = append(ids[w], string(r.Bulk))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for w, list := range ids {
		for i, id := range list {
			if seen[id] {
				t.Errorf("ID %s returned twice", id)
			}
			seen[id] = true
			if i > 0 && compareIDs(list[i-1], id) >= 0 {
				t.Errorf("writer %d: ID %s after %s; want increasing", w, id, list[i-1])
			}
			// The entry under that ID must be this writer's i-th.
			got := show(read(t, s, "XRANGE", "s", id, id))
			want := fmt.Sprintf(`[6:[6:%q [6:"w" %q "i" %q]]]`, id, fmt.Sprint(w), fmt.Sprint(i))
			if got != want {
				t.Fatalf("XRANGE s %s %s = %s; want %s", id, id, got, want)
			}
		}
	}
	if got, want := show(read(t, s, "XLEN", "s")), fmt.Sprintf(":%d", writers*each); got != want {
		t.Errorf("XLEN s = %s; want %s", got, want)
	}
	entries, reqs := s.prop.entries.Load(), s.prop.requests.Load()
	t.Logf("%d requests in %d log entries", reqs, entries)
	if reqs != writers*each || entries >= reqs {
		t.Errorf("proposed %d requests in %d entries; want %d requests in fewer entries", reqs, entries, writers*each)
	}
	if st := s.Status(); st.ProposedEntries != entries || st.ProposedRequests != reqs || st.CommitMillis <= 0 {
		t.Errorf("Status() = %d entries, %d requests, commit %.3f ms; want %d, %d and a positive time",
			st.ProposedEntries, st.ProposedRequests, st.CommitMillis, entries, reqs)
	}
}

// compareIDs orders stream IDs "ms-seq".
func compareIDs(a, b string) int {
	var am, as, bm, bs uint64
	fmt.Sscanf(strings.Replace(a, "-", " ", 1), "%d %d", &am, &as)
	fmt.Sscanf(strings.Replace(b, "-", " ", 1), "%d %d", &bm, &bs)
	switch {
	case am != bm:
		return cmpU(am, bm)
	default:
		return cmpU(as, bs)
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestReopen writes, closes and reopens the same directory: once replaying
// the whole log, once from a snapshot plus the log's tail; the state read
// back must be identical.
func TestReopen(t *testing.T) {
	tests := []struct {
		name     string
		snapshot bool
	}{
		{"log only", false},
		{"snapshot and tail", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testShardConfig(dir)
			if tc.snapshot {
				cfg.SnapshotThreshold = 16
				cfg.SnapshotInterval = 20 * time.Millisecond
				cfg.TrailingLogs = 4
			}
			s := openShard(t, cfg)
			writeKeys(t, s, 0, 120)
			if tc.snapshot {
				waitFor(t, readyTimeout, "a snapshot", func() bool { return s.Status().LastSnapshotIndex > 0 })
				writeKeys(t, s, 120, 130) // the tail: fewer than the threshold
			}
			before := dumpKeys(t, s)
			st := s.Status()
			if tc.snapshot && st.CommitIndex <= st.LastSnapshotIndex {
				t.Fatalf("commit index %d <= snapshot index %d: no tail to replay", st.CommitIndex, st.LastSnapshotIndex)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s2 := openShard(t, cfg)
			if tc.snapshot {
				first, err := s2.store.FirstIndex()
				if err != nil || first <= 1 {
					t.Errorf("first log index after compaction = %d, %v; want > 1 (state must come from the snapshot)", first, err)
				}
			}
			if after := dumpKeys(t, s2); after != before {
				t.Errorf("state after reopen:\n%s\nwant:\n%s", after, before)
			}
			// The reopened shard keeps accepting writes after the old ones.
			if got := show(write(t, s2, "XADD", "k0", "*", "after", "reopen")); !strings.HasPrefix(got, `"`) {
				t.Errorf("XADD after reopen = %s; want an ID", got)
			}
		})
	}
}

func writeKeys(t *testing.T, s *Shard, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		write(t, s, "XADD", fmt.Sprintf("k%d", i%3), "*", "i", fmt.Sprint(i))
	}
}

func dumpKeys(t *testing.T, s *Shard) string {
	t.Helper()
	var b strings.Builder
	for k := range 3 {
		key := fmt.Sprintf("k%d", k)
		fmt.Fprintf(&b, "%s %s %s\n", key, show(read(t, s, "XLEN", key)), show(read(t, s, "XRANGE", key, "-", "+")))
	}
	return b.String()
}

// TestReadIndexWaitsForApply commits an entry behind the proposer's back
// and reads as soon as it is committed: the read must not run before the
// machine applied it.
func TestReadIndexWaitsForApply(t *testing.T) {
	s := openShard(t, testShardConfig(t.TempDir()))
	for i := range 20 {
		e := fsm.Entry{Stamp: int64(i), Reqs: []fsm.Request{cmd("XADD", "r", "*", "i", fmt.Sprint(i))}}
		idx := s.r.LastIndex() + 1 // nothing else writes to this shard
		f := s.r.Apply(e.AppendEncode(nil), 0)
		waitFor(t, opTimeout, "commit", func() bool { return s.r.CommitIndex() >= idx })
		var applied uint64
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_, err := s.Read(ctx, func(*fsm.Machine) fsm.Reply {
			applied = s.fsm.applied.get()
			return fsm.OK()
		})
		cancel()
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if applied < idx {
			t.Fatalf("read ran at applied index %d; want >= %d (committed before the read)", applied, idx)
		}
		if err := f.Error(); err != nil || f.Index() != idx {
			t.Fatalf("apply = index %d, %v; want index %d", f.Index(), err, idx)
		}
	}
}

func TestAppliedIndexWait(t *testing.T) {
	var a appliedIndex
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- a.wait(context.Background(), 5, stop) }()
	a.advance(4)
	select {
	case err := <-done:
		t.Fatalf("wait(5) returned %v at index 4; want it to block", err)
	case <-time.After(20 * time.Millisecond):
	}
	a.advance(5)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait(5) = %v; want nil", err)
		}
	case <-time.After(opTimeout):
		t.Fatalf("wait(5) still blocked at index 5")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.wait(ctx, 6, stop); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with a cancelled ctx = %v; want context.Canceled", err)
	}
	close(stop)
	if err := a.wait(context.Background(), 6, stop); !errors.Is(err, ErrShutdown) {
		t.Errorf("wait after stop = %v; want ErrShutdown", err)
	}
}

// TestCancelledWhileQueued: a caller that gave up before the proposer took
// its request is answered with its ctx error and never proposed.
func TestCancelledWhileQueued(t *testing.T) {
	p := newProposer(nil, make(chan struct{}), make(chan struct{}), testLogger())
	live := &proposal{ctx: context.Background(), req: cmd("XADD", "a", "*", "f", "v"), done: make(chan result, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	gone := &proposal{ctx: ctx, req: cmd("XADD", "b", "*", "f", "v"), done: make(chan result, 1)}
	also := &proposal{ctx: context.Background(), req: cmd("XADD", "c", "*", "f", "v"), done: make(chan result, 1)}
	p.queue <- gone
	p.queue <- also
	cancel()
	var b batcher
	carry := p.drain(&b, live)
	batch := b.reqs
	if len(batch) != 2 || batch[0] != live || batch[1] != also || carry != nil {
		t.Fatalf("drain = %d requests (carry %v); want [live also]", len(batch), carry)
	}
	select {
	case r := <-gone.done:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("cancelled caller answered %v; want context.Canceled", r.err)
		}
	default:
		t.Errorf("cancelled caller not answered")
	}
}

func TestBatchByteCap(t *testing.T) {
	p := newProposer(nil, make(chan struct{}), make(chan struct{}), testLogger())
	big := string(make([]byte, maxBatchBytes/2))
	mk := func() *proposal {
		req := cmd("XADD", "s", "*", "f", big)
		return &proposal{ctx: context.Background(), req: req, size: requestSize(req), done: make(chan result, 1)}
	}
	first, second, third := mk(), mk(), mk()
	p.queue <- second
	p.queue <- third
	var b batcher
	carry := p.drain(&b, first)
	batch := b.reqs
	if len(batch) != 1 || carry != second {
		t.Errorf("drain of three half-cap requests = %d in batch, carry second %v; want 1 and true", len(batch), carry == second)
	}
}

// TestLinger: a batch waits for as many requests as the previous entry
// answered, and no longer; a lone caller never waits.
func TestLinger(t *testing.T) {
	mk := func(key string) *proposal {
		return &proposal{ctx: context.Background(), req: cmd("XADD", key, "*", "f", "v"), done: make(chan result, 1)}
	}
	newP := func(expect int64) *proposer {
		p := newProposer(nil, make(chan struct{}), make(chan struct{}), testLogger())
		p.expect.Store(expect)
		p.commitNanos.Store(int64(time.Hour)) // the wait is bounded by maxLinger only
		p.replicated.Store(true)
		return p
	}

	// noWait checks that linger returns at once: a request queued after
	// the drain is left for the next batch (a linger that waited would
	// take it).
	noWait := func(t *testing.T, p *proposer) {
		t.Helper()
		var b batcher
		p.drain(&b, mk("a"))
		p.queue <- mk("b")
		if carry := p.linger(&b); carry != nil || len(b.reqs) != 1 || len(p.queue) != 1 {
			t.Fatalf("linger = %d requests, carry %v, %d left queued; want 1, nil, 1", len(b.reqs), carry, len(p.queue))
		}
	}

	t.Run("lone caller", func(t *testing.T) { noWait(t, newP(1)) })

	// started is a proposer that expects expect requests, and a batch that
	// drained the one queued so far.
	started := func(expect int64) (*proposer, *batcher) {
		p, b := newP(expect), &batcher{}
		p.drain(b, mk("a"))
		return p, b
	}

	t.Run("answered callers come back", func(t *testing.T) {
		p, b := started(3)
		go func() {
			p.queue <- mk("b")
			p.queue <- mk("c")
		}()
		p.linger(b)
		if len(b.reqs) != 3 {
			t.Fatalf("linger took %d requests; want the 3 expected", len(b.reqs))
		}
	})

	t.Run("stops at the expected count", func(t *testing.T) {
		p, b := started(2)
		p.queue <- mk("b")
		p.linger(b)
		p.queue <- mk("c") // arrives after the batch is complete
		if len(b.reqs) != 2 {
			t.Fatalf("linger took %d requests; want 2", len(b.reqs))
		}
		if len(p.queue) != 1 {
			t.Fatalf("queue holds %d; want the late request left queued", len(p.queue))
		}
	})

	t.Run("nobody comes back", func(t *testing.T) {
		p, b := started(50)
		done := make(chan struct{})
		go func() {
			p.linger(b)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(opTimeout):
			t.Fatalf("linger still waiting after %v for callers that never came", opTimeout)
		}
		if len(b.reqs) != 1 {
			t.Fatalf("linger = %d requests; want 1", len(b.reqs))
		}
	})

	t.Run("lone voter", func(t *testing.T) {
		p := newP(50)
		p.replicated.Store(false)
		noWait(t, p)
	})

	t.Run("no commit time yet", func(t *testing.T) {
		p := newP(50)
		p.commitNanos.Store(0)
		noWait(t, p)
	})
}

func TestClosedShard(t *testing.T) {
	s := openShard(t, testShardConfig(t.TempDir()))
	woken, cancel := s.Watch([]string{"k"})
	defer cancel()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !received(woken) {
		t.Errorf("watcher not woken by Close")
	}
	ctx := context.Background()
	if _, err := s.Write(ctx, cmd("XADD", "k", "*", "f", "v")); !errors.Is(err, ErrShutdown) {
		t.Errorf("Write after Close = %v; want ErrShutdown", err)
	}
	if _, err := s.Read(ctx, func(*fsm.Machine) fsm.Reply { return fsm.OK() }); !errors.Is(err, ErrShutdown) {
		t.Errorf("Read after Close = %v; want ErrShutdown", err)
	}
	if s.Ready() {
		t.Errorf("Ready() after Close = true; want false")
	}
}

func TestMapRaftErr(t *testing.T) {
	s := openShard(t, testShardConfig(t.TempDir()))
	tests := []struct {
		in   error
		want error
	}{
		{raft.ErrRaftShutdown, ErrShutdown},
		{raft.ErrLeadershipLost, ErrNotLeader}, // this node leads: someone does
		{raft.ErrNotLeader, ErrNotLeader},
	}
	for _, tc := range tests {
		if got := mapRaftErr(s.r, tc.in); !errors.Is(got, tc.want) || !errors.Is(got, tc.in) {
			t.Errorf("mapRaftErr(%v) = %v; want it to wrap %v and %v", tc.in, got, tc.want, tc.in)
		}
	}
}

// TestShardDigest: replicas that applied the same writes have the same
// digest (CLUSTER SHARDDIGEST compares them); one write more, or another
// one, changes it.
func TestShardDigest(t *testing.T) {
	digest := func(writes ...[]string) string {
		t.Helper()
		s := openShard(t, testShardConfig(t.TempDir()))
		for _, w := range writes {
			write(t, s, w...)
		}
		_, d, err := s.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := []string{"XADD", "s", "1-1", "f", "v"}
	b := []string{"XADD", "s", "2-1", "f", "w"}
	same1, same2 := digest(a, b), digest(a, b)
	if same1 != same2 || len(same1) != 64 {
		t.Errorf("the same writes give digests %q and %q; want one SHA-256", same1, same2)
	}
	if d := digest(a); d == same1 {
		t.Errorf("one write fewer gives the same digest %q", d)
	}
	if d := digest(a, []string{"XADD", "s", "2-1", "f", "x"}); d == same1 {
		t.Errorf("another value gives the same digest %q", d)
	}
}
