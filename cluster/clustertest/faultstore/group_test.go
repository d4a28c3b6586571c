package faultstore_test

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

// This file is a small in-process harness for the tests that run real
// hashicorp/raft groups on these stores: servers on connected
// InmemTransports, snapshots in real FileSnapshotStores.

const (
	// raftTimeout is every Raft timeout of the test groups (heartbeat,
	// election, leader lease): hashicorp/raft's own tests use 50 ms; twice
	// that keeps -race on a busy machine from flapping leaders.
	raftTimeout = 100 * time.Millisecond
	// waitFor bounds a wait for what takes Raft a few election rounds
	// (a leader, a follower catching up): far more than it needs.
	waitFor = 10 * time.Second
	// pollEvery is how often a wait checks its condition.
	pollEvery = 5 * time.Millisecond
)

// waitUntil polls cond until it holds, failing the test after waitFor.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, waitFor)
		}
		time.Sleep(pollEvery)
	}
}

// recorder is the test FSM: it keeps every command it applied, in order.
type recorder struct {
	mu   sync.Mutex
	cmds []string
}

func (r *recorder) Apply(l *raft.Log) any {
	if l.Type == raft.LogCommand {
		r.mu.Lock()
		r.cmds = append(r.cmds, string(l.Data))
		r.mu.Unlock()
	}
	return nil
}

func (r *recorder) applied() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cmds)
}

func (r *recorder) Snapshot() (raft.FSMSnapshot, error) { return snapshot(r.applied()), nil }

func (r *recorder) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var cmds []string
	if err := json.NewDecoder(rc).Decode(&cmds); err != nil {
		return err
	}
	r.mu.Lock()
	r.cmds = cmds
	r.mu.Unlock()
	return nil
}

type snapshot []string

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode([]string(s)); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (snapshot) Release() {}

// server is one member of a test group. Its store and FSM are replaced
// when it restarts; its snapshot directory stays.
type server struct {
	id    raft.ServerID
	dir   string // the FileSnapshotStore's directory
	store faultstore.LogStore
	fsm   *recorder
	trans *raft.InmemTransport
	r     *raft.Raft
}

// group is a Raft group of in-process servers.
type group struct {
	t       *testing.T
	servers []*server
	open    func(id raft.ServerID) faultstore.LogStore
}

// newGroup bootstraps a group of n voters (n1, n2, ...) on the stores open
// returns, starts it and waits for a leader. The group shuts down when the
// test ends.
func newGroup(t *testing.T, n int, open func(id raft.ServerID) faultstore.LogStore) *group {
	t.Helper()
	g := &group{t: t, open: open}
	var voters raft.Configuration
	for i := range n {
		id := raft.ServerID(fmt.Sprintf("n%d", i+1))
		g.servers = append(g.servers, &server{id: id, dir: filepath.Join(t.TempDir(), string(id))})
		voters.Servers = append(voters.Servers, raft.Server{Suffrage: raft.Voter, ID: id, Address: raft.ServerAddress(id)})
	}
	t.Cleanup(g.shutdown)
	g.start(func(s *server, conf *raft.Config, snaps raft.SnapshotStore) {
		if err := raft.BootstrapCluster(conf, s.store, s.store, snaps, s.trans, voters); err != nil {
			t.Fatalf("%s: BootstrapCluster: %v", s.id, err)
		}
	})
	g.leader()
	return g
}

func (g *group) config(id raft.ServerID) *raft.Config {
	conf := raft.DefaultConfig()
	conf.LocalID = id
	conf.HeartbeatTimeout, conf.ElectionTimeout, conf.LeaderLeaseTimeout = raftTimeout, raftTimeout, raftTimeout
	conf.CommitTimeout = raftTimeout / 10
	conf.Logger = hclog.New(&hclog.LoggerOptions{Name: string(id), Output: g.t.Output(), Level: hclog.Warn})
	return conf
}

// start opens every server's stores and transport and starts Raft; before,
// if set, runs first (to bootstrap).
func (g *group) start(before func(*server, *raft.Config, raft.SnapshotStore)) {
	g.t.Helper()
	for _, s := range g.servers {
		_, s.trans = raft.NewInmemTransport(raft.ServerAddress(s.id))
	}
	for _, a := range g.servers {
		for _, b := range g.servers {
			if a != b {
				a.trans.Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
	for _, s := range g.servers {
		conf := g.config(s.id)
		snaps, err := raft.NewFileSnapshotStoreWithLogger(s.dir, 2, conf.Logger)
		if err != nil {
			g.t.Fatalf("%s: FileSnapshotStore: %v", s.id, err)
		}
		s.store, s.fsm = g.open(s.id), &recorder{}
		if before != nil {
			before(s, conf, snaps)
		}
		if s.r, err = raft.NewRaft(conf, s.fsm, s.store, s.store, snaps, s.trans); err != nil {
			g.t.Fatalf("%s: NewRaft: %v", s.id, err)
		}
	}
}

// stop shuts every server's Raft down (it writes nothing on the way out)
// and closes its transport; the stores stay as they are.
func (g *group) stop() {
	for _, s := range g.servers {
		if s.r != nil {
			if err := s.r.Shutdown().Error(); err != nil {
				g.t.Errorf("%s: Shutdown: %v", s.id, err)
			}
			s.r = nil
		}
		if s.trans != nil {
			_ = s.trans.Close()
		}
	}
}

// shutdown stops the group and closes the stores; a store that lost power
// fails its Close, which is expected.
func (g *group) shutdown() {
	g.stop()
	for _, s := range g.servers {
		if s.store != nil {
			_ = s.store.Close()
		}
	}
}

// leader waits for one server to lead and returns it.
func (g *group) leader() *server {
	g.t.Helper()
	var l *server
	waitUntil(g.t, "a leader", func() bool {
		l = g.currentLeader()
		return l != nil
	})
	return l
}

// currentLeader is the server that leads now, or nil.
func (g *group) currentLeader() *server {
	for _, s := range g.servers {
		if s.r != nil && s.r.State() == raft.Leader {
			return s
		}
	}
	return nil
}
