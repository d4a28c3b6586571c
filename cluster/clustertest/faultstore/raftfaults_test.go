package faultstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

// boltGroup is a 3-server group on real raft-boltdb stores, each wrapped
// in a FaultyStore.
func boltGroup(t *testing.T) (*group, map[raft.ServerID]*faultstore.FaultyStore) {
	dir := t.TempDir()
	faulty := map[raft.ServerID]*faultstore.FaultyStore{}
	g := newGroup(t, 3, func(id raft.ServerID) faultstore.LogStore {
		if err := os.MkdirAll(filepath.Join(dir, string(id)), 0o750); err != nil {
			t.Fatal(err)
		}
		st, err := raftboltdb.NewBoltStore(filepath.Join(dir, string(id), "raft.db"))
		if err != nil {
			t.Fatalf("NewBoltStore: %v", err)
		}
		faulty[id] = faultstore.Faulty(st)
		return faulty[id]
	})
	return g, faulty
}

// applyOnLeader applies cmd on whichever server leads, retrying while
// leadership moves, and returns the leader that committed it.
func (g *group) applyOnLeader(cmd string) *server {
	g.t.Helper()
	var l *server
	var err error
	waitUntil(g.t, "apply "+cmd, func() bool {
		if l = g.currentLeader(); l == nil {
			return false
		}
		err = l.r.Apply([]byte(cmd), waitFor).Error()
		return err == nil
	})
	return l
}

// failLeader makes fail break the leader's store and checks that the
// leader's next Apply fails with ENOSPC; it returns that leader. A leader
// that loses its leadership for another reason in between is healed and
// the next one tried.
func (g *group) failLeader(faulty map[raft.ServerID]*faultstore.FaultyStore, fail func(*faultstore.FaultyStore)) *server {
	g.t.Helper()
	var l *server
	var err error
	waitUntil(g.t, "an Apply failing with ENOSPC on the leader", func() bool {
		l = g.applyOnLeader("before") // the leader's own first entries are stored
		fail(faulty[l.id])
		if err = l.r.Apply([]byte("refused"), waitFor).Error(); errors.Is(err, syscall.ENOSPC) {
			return true
		}
		g.t.Logf("Apply on the leader %s with a full disk = %v; want ENOSPC: try again", l.id, err)
		faulty[l.id].Heal()
		return false
	})
	return l
}

// TestLeaderStepsDownWhenLogWritesFail: a leader whose disk is full
// (StoreLogs fails with ENOSPC) fails the Apply with that error and steps
// down; it does not panic, since its term can still be saved. Another
// server leads; the old one, now a follower, refuses the entries it cannot
// store, and catches up once its disk has room again.
func TestLeaderStepsDownWhenLogWritesFail(t *testing.T) {
	g, faulty := boltGroup(t)
	old := g.failLeader(faulty, func(f *faultstore.FaultyStore) { f.FailLogWrites(syscall.ENOSPC) })
	f := faulty[old.id]
	waitUntil(t, "another server leads", func() bool {
		l := g.currentLeader()
		return l != nil && l != old
	})
	if st := old.r.State(); st == raft.Shutdown {
		t.Errorf("old leader %s is %v; want it running", old.id, st)
	}
	failedBefore := f.FailedWrites()
	l := g.applyOnLeader("after")
	waitUntil(t, "the old leader refuses to store the new entries", func() bool {
		return f.FailedWrites() > failedBefore
	})
	if got := old.fsm.applied(); slices.Contains(got, "after") || slices.Contains(got, "refused") {
		t.Errorf("old leader applied %q with a full disk; want neither \"after\" nor \"refused\"", got)
	}

	f.Heal()
	waitUntil(t, "the old leader catches up", func() bool {
		return slices.Contains(old.fsm.applied(), "after")
	})
	if got, want := old.fsm.applied(), l.fsm.applied(); !slices.Equal(got, want) {
		t.Errorf("old leader applied %q; want the leader's %q", got, want)
	}
}

// TestNewRaftPanicsWhenTermCannotBeSaved: NewRaft writes the current term
// back (setCurrentTerm), so a store that cannot write makes it panic
// rather than return an error. It panics in the calling goroutine, so
// recover sees it.
func TestNewRaftPanicsWhenTermCannotBeSaved(t *testing.T) {
	var d faultstore.Disk
	st, err := d.Open("n1/raft.db", faultstore.SyncAlways)
	if err != nil {
		t.Fatal(err)
	}
	f := faultstore.Faulty(st)
	defer f.Close()
	f.FailStableWrites(syscall.EIO)
	_, trans := raft.NewInmemTransport("n1")
	defer trans.Close()
	g := &group{t: t}
	conf := g.config("n1")
	defer func() {
		r := recover()
		if msg := fmt.Sprint(r); !strings.Contains(msg, "failed to save current term") || !strings.Contains(msg, syscall.EIO.Error()) {
			t.Errorf("NewRaft with failing stable writes panicked with %v; want \"failed to save current term: ... %v\"", r, syscall.EIO)
		}
	}()
	r, err := raft.NewRaft(conf, &recorder{}, f, f, raft.NewInmemSnapshotStore(), trans)
	t.Errorf("NewRaft with failing stable writes = %v, %v; want a panic", r, err)
}

// childEnv names the test that TestTermWriteFailurePanics runs in a child
// process, where a panic in a Raft goroutine may kill it.
const childEnv = "FAULTSTORE_PANIC_CHILD"

// TestTermWriteFailurePanics: with every write failing (FailWrites, a full
// disk), the leader steps down as above, and then panics the first time
// its term changes: setCurrentTerm cannot save it. The panic is in a Raft
// goroutine, so it kills the process; the test runs the group in a child
// process and checks how the child died.
func TestTermWriteFailurePanics(t *testing.T) {
	if os.Getenv(childEnv) == t.Name() {
		failAllWritesOnLeader(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child: %v; want it to exit with a panic\n%s", err, out.Bytes())
	}
	for _, want := range []string{
		"panic: failed to save current term: faultstore: SetUint64: " + syscall.ENOSPC.Error(),
		"raft.(*Raft).setCurrentTerm",
		"child: the leader stepped down",
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("child's output lacks %q:\n%s", want, out.Bytes())
		}
	}
	// The stack tells which term change it was (an election, a vote, an
	// AppendEntries of the new leader).
	t.Logf("child exited %v; its panic:\n%s", exit, panicOf(out.String()))
}

// failAllWritesOnLeader is the child's part: it returns only if Raft did
// not panic.
func failAllWritesOnLeader(t *testing.T) {
	var d faultstore.Disk
	faulty := map[raft.ServerID]*faultstore.FaultyStore{}
	g := newGroup(t, 3, func(id raft.ServerID) faultstore.LogStore {
		st, err := d.Open(path.Join(string(id), "raft.db"), faultstore.SyncAlways)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		faulty[id] = faultstore.Faulty(st)
		return faulty[id]
	})
	l := g.failLeader(faulty, func(f *faultstore.FaultyStore) { f.FailWrites(syscall.ENOSPC) })
	waitUntil(t, "the leader steps down", func() bool { return l.r.State() != raft.Leader })
	fmt.Println("child: the leader stepped down")
	waitUntil(t, "a panic", func() bool { return false })
}

// panicOf is the panic message and the frames up to the Raft goroutine's
// entry in a crashed test's output.
func panicOf(out string) string {
	i := strings.Index(out, "panic: ")
	if i < 0 {
		return out
	}
	lines := strings.Split(out[i:], "\n")
	return strings.Join(lines[:min(len(lines), 12)], "\n")
}
