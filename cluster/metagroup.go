package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// metaGroupName is the meta group's name on the Raft port's mux, and
// metaDir its directory under the data dir.
const (
	metaGroupName = "meta"
	metaDir       = "meta"
)

// metaApplyTimeout bounds one meta proposal.
const metaApplyTimeout = 5 * time.Second

// metaGroup is the Raft group that replicates the cluster configuration
// (MetaState) to every node: up to maxMetaVoters voters, the other nodes
// non-voters, so every node has a local, current copy to route from.
type metaGroup struct {
	logger    *slog.Logger
	r         *raft.Raft
	fsm       *metaFSM
	store     LogStore
	snaps     *raft.FileSnapshotStore
	transport *raft.NetworkTransport
	conf      *raft.Config
}

// openMetaGroup opens the meta group's stores under dir and starts Raft
// without bootstrapping: the node's controller bootstraps it when the
// cluster forms (maybeBootstrap) or the meta leader adds this node.
// changed receives a value after every applied entry.
func openMetaGroup(cfg NodeConfig, layer raft.StreamLayer, changed chan<- struct{}, logger *slog.Logger) (_ *metaGroup, err error) {
	dir := filepath.Join(cfg.DataDir, metaDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("meta group: create dir: %w", err)
	}
	g := &metaGroup{logger: logger.With("group", metaGroupName), fsm: newMetaFSM(changed)}
	defer func() {
		if err != nil {
			g.closeStores()
		}
	}()
	hl := newHclog(g.logger, "")
	st, err := openLogStore(dir, LogStoreBolt, cfg.OpenLogStore)
	if err != nil {
		return nil, fmt.Errorf("meta group: open log store: %w", err)
	}
	g.store = newHoldStable(st, metaGroupName, g.logger)
	if g.snaps, err = raft.NewFileSnapshotStoreWithLogger(dir, snapshotsKept, hl.Named("snapshot")); err != nil {
		return nil, fmt.Errorf("meta group: open snapshot store: %w", err)
	}
	if g.transport, err = newTransport(ShardConfig{Layer: layer}, hl.Named("net")); err != nil {
		return nil, fmt.Errorf("meta group: %w", err)
	}
	sc := ShardConfig{NodeID: cfg.NodeID, HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLeaseTimeout}
	g.conf = raftConfig(sc, hl, nil)
	g.conf.SnapshotThreshold = 1024 // the state is small; keep the log short
	if g.r, err = raft.NewRaft(g.conf, g.fsm, g.store, g.store, newestSnapshot{g.snaps}, g.transport); err != nil {
		return nil, fmt.Errorf("meta group: start raft: %w", err)
	}
	return g, nil
}

// hasState reports whether this node ever was part of the meta group.
func (g *metaGroup) hasState() bool {
	ok, err := raft.HasExistingState(g.store, g.store, g.snaps)
	return err != nil || ok
}

// bootstrap forms the meta group with servers.
func (g *metaGroup) bootstrap(servers []raft.Server) error {
	if err := g.r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		return fmt.Errorf("meta group: bootstrap: %w", err)
	}
	if len(servers) == 1 {
		electAtOnce(g.r, g.conf, g.logger)
	}
	return nil
}

// restoreTimeouts puts the configured election timeouts back once the meta
// group has more than one voter.
func (g *metaGroup) restoreTimeouts() { restoreTimeouts(g.r, g.conf, g.logger) }

// addr is this node's meta replica address: its Raft address and the
// replica ID.
func (g *metaGroup) addr() string { return string(g.transport.LocalAddr()) }

// addNonvoter adds (or re-addresses) the non-voter id at addr; only the
// meta leader can.
func (g *metaGroup) addNonvoter(id, addr string) error {
	if err := g.r.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, configChangeTimeout).Error(); err != nil {
		return fmt.Errorf("meta group: add non-voter %s: %w", id, err)
	}
	return nil
}

// isLeader reports whether this node leads the meta group.
func (g *metaGroup) isLeader() bool { return g.r.State() == raft.Leader }

// state is the configuration as this node last applied it; callers must
// not change it.
func (g *metaGroup) state() *MetaState { return g.fsm.current.Load() }

// apply proposes cmd; only the meta leader can.
func (g *metaGroup) apply(cmd metaCmd) error {
	f := g.r.Apply(encodeMetaCmd(cmd), metaApplyTimeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return fmt.Errorf("%w: %w", ErrNotLeader, err)
		}
		return fmt.Errorf("meta group: apply %s: %w", cmd.Op, err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return err
	}
	return nil
}

// servers is the meta group's configuration.
func (g *metaGroup) servers() []raft.Server {
	f := g.r.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	return f.Configuration().Servers
}

func (g *metaGroup) close() error {
	var errs []error
	if g.r != nil {
		if err := shutdownRaft(g.r); err != nil {
			errs = append(errs, fmt.Errorf("meta group: %w", err))
			if errors.Is(err, errRaftStuck) {
				return errors.Join(append(errs, g.transport.Close())...)
			}
		}
	}
	errs = append(errs, g.closeStores())
	return errors.Join(errs...)
}

func (g *metaGroup) closeStores() error {
	var errs []error
	if g.transport != nil {
		errs = append(errs, g.transport.Close())
	}
	if g.store != nil {
		errs = append(errs, g.store.Close())
	}
	return errors.Join(errs...)
}

// metaFSM applies meta log entries to a MetaState and publishes an
// immutable copy after each one.
type metaFSM struct {
	mu      sync.Mutex
	st      *MetaState
	current atomic.Pointer[MetaState]
	changed chan<- struct{}
}

func newMetaFSM(changed chan<- struct{}) *metaFSM {
	f := &metaFSM{st: &MetaState{}, changed: changed}
	f.current.Store(f.st.clone())
	return f
}

func (f *metaFSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	err := f.st.apply(l.Data, l.Index)
	f.current.Store(f.st.clone())
	f.mu.Unlock()
	f.signal()
	return err
}

func (f *metaFSM) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *metaFSM) Snapshot() (raft.FSMSnapshot, error) {
	return metaSnapshot{st: f.current.Load()}, nil
}

func (f *metaFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var st MetaState
	if err := json.NewDecoder(rc).Decode(&st); err != nil {
		return fmt.Errorf("meta group: restore snapshot: %w", err)
	}
	f.mu.Lock()
	f.st = &st
	f.current.Store(st.clone())
	f.mu.Unlock()
	f.signal()
	return nil
}

type metaSnapshot struct{ st *MetaState }

func (s metaSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s.st); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("meta group: write snapshot: %w", err)
	}
	return sink.Close()
}

func (metaSnapshot) Release() {}
