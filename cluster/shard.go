package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/fsm"
)

// On-disk layout of a shard, under ShardConfig.Dir.
const (
	boltFile      = "raft.db" // log and stable store
	snapshotsKept = 2         // raft.FileSnapshotStore keeps them in snapshots/
	logCacheSize  = 512       // recent entries kept in memory
	// boltLockTimeout bounds the wait for the bolt file's lock: another
	// process using the same data dir fails the open instead of hanging.
	boltLockTimeout = 2 * time.Second
)

// Transport settings.
const (
	transportPool    = 3
	transportTimeout = 10 * time.Second
)

// ShardConfig is what OpenShard needs to run one Raft group.
type ShardConfig struct {
	ID     string // shard ID, e.g. "0"
	NodeID string // this node's Raft server ID
	Dir    string // <data-dir>/shards/<id>

	// Layer, when set, carries the Raft traffic (a group on the node's Mux;
	// the shard's transport closes it). Otherwise RaftListener, when set;
	// otherwise OpenShard listens on RaftAddr. RaftAdvertise is the address
	// peers dial (default: the listener's address; unused with Layer).
	Layer         raft.StreamLayer
	RaftListener  net.Listener
	RaftAddr      string
	RaftAdvertise string

	SnapshotThreshold uint64        // entries since the last snapshot; 0: raft default
	SnapshotInterval  time.Duration // how often to check the threshold; 0: raft default
	TrailingLogs      uint64        // entries kept after a snapshot; 0: raft default

	// Raft timeouts; zero keeps hashicorp/raft's defaults. Tests shorten them
	// so a one-voter group elects itself quickly.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	// Join opens the group without bootstrapping it, even when the
	// directory is empty: the node waits to be added by the group's leader,
	// or calls Bootstrap when the cluster configuration says it forms the
	// group. Without Join an empty directory gets a one-voter group.
	Join bool
	// LogStore is the Raft log and stable store: LogStoreBolt (default) or
	// LogStoreWAL.
	LogStore string
	// OpenLogStore, when set, opens the log store instead (tests).
	OpenLogStore func(dir string) (LogStore, error)
	// Clock is the wall clock that stamps proposed entries (nil:
	// time.Now); tests move it to see what clock jumps do.
	Clock func() time.Time
	// OnLeadership, if set, is called after every leadership change of
	// this replica (gained or lost).
	OnLeadership func()

	Logger *slog.Logger
}

// Shard is one hashicorp/raft group replicating an fsm.Machine.
type Shard struct {
	id     string
	nodeID string
	logger *slog.Logger

	m         *fsm.Machine
	fsm       *shardFSM
	waits     *WaitRegistry
	r         *raft.Raft
	store     LogStore
	disk      *holdStable // store, which waits out failing term and vote writes
	snaps     *raft.FileSnapshotStore
	transport *raft.NetworkTransport
	prop      *proposer
	reads     *readIndex

	notifyCh     chan bool
	onLeadership func()
	clock        func() time.Time
	stop         chan struct{}
	raftDown     chan struct{} // closed once raft.Shutdown returned
	wg           sync.WaitGroup
	closeOnce    sync.Once
	closeErr     error

	conf *raft.Config

	mu    sync.Mutex
	epoch uint64 // bumped on every leadership change
	ready bool   // leader, and this term's barrier applied
}

// OpenShard opens (or creates) the shard's stores under cfg.Dir, joins the
// transport, bootstraps a one-voter configuration if the directory holds no
// Raft state yet (never again), and starts Raft.
func OpenShard(cfg ShardConfig) (_ *Shard, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("shard", cfg.ID)
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("shard %s: create dir: %w", cfg.ID, err)
	}
	s := &Shard{
		id: cfg.ID, nodeID: cfg.NodeID, logger: logger, onLeadership: cfg.OnLeadership, clock: cfg.Clock,
		m: fsm.New(), waits: &WaitRegistry{},
		notifyCh: make(chan bool, 8), stop: make(chan struct{}), raftDown: make(chan struct{}),
	}
	s.fsm = &shardFSM{m: s.m, waits: s.waits}
	defer func() {
		if err != nil {
			s.closeStores()
		}
	}()
	hl := newHclog(logger, "")
	st, err := openLogStore(cfg.Dir, cfg.LogStore, cfg.OpenLogStore)
	if err != nil {
		return nil, fmt.Errorf("shard %s: open log store: %w", cfg.ID, err)
	}
	s.disk = newHoldStable(st, "shard-"+cfg.ID, logger)
	s.store = s.disk
	if s.snaps, err = raft.NewFileSnapshotStoreWithLogger(cfg.Dir, snapshotsKept, hl.Named("snapshot")); err != nil {
		return nil, fmt.Errorf("shard %s: open snapshot store: %w", cfg.ID, err)
	}
	if s.transport, err = newTransport(cfg, hl.Named("net")); err != nil {
		return nil, fmt.Errorf("shard %s: %w", cfg.ID, err)
	}
	conf := raftConfig(cfg, hl, s.notifyCh)
	if err := raft.ValidateConfig(conf); err != nil {
		return nil, fmt.Errorf("shard %s: raft config: %w", cfg.ID, err)
	}
	s.conf = conf
	if !cfg.Join {
		if err := s.bootstrapOnce(conf); err != nil {
			return nil, err
		}
	}
	logs, err := raft.NewLogCache(logCacheSize, s.store)
	if err != nil {
		return nil, fmt.Errorf("shard %s: log cache: %w", cfg.ID, err)
	}
	if s.r, err = raft.NewRaft(conf, s.fsm, logs, s.store, newestSnapshot{s.snaps}, s.transport); err != nil {
		return nil, fmt.Errorf("shard %s: start raft: %w", cfg.ID, err)
	}
	lone, err := s.checkVoter(conf.LocalID, cfg.Join)
	if err != nil {
		_ = s.r.Shutdown().Error()
		return nil, err
	}
	if lone {
		s.electNow()
	}
	s.start()
	return s, nil
}

// checkVoter refuses a data directory whose Raft configuration does not
// list this node: with one voter per group that node could never lead (a
// changed --node-id, or a directory copied from another node). A group
// opened to Join may have no configuration yet, or one without this node
// (it was removed, and may be added again). lone reports whether this node
// is the group's only voter.
func (s *Shard) checkVoter(id raft.ServerID, join bool) (lone bool, err error) {
	f := s.r.GetConfiguration()
	if err := f.Error(); err != nil {
		return false, fmt.Errorf("shard %s: read configuration: %w", s.id, err)
	}
	var ids []raft.ServerID
	found, voters := false, 0
	for _, srv := range f.Configuration().Servers {
		found = found || srv.ID == id
		if srv.Suffrage == raft.Voter {
			voters++
		}
		ids = append(ids, srv.ID)
	}
	if !found && join {
		return false, nil
	}
	if !found {
		return false, fmt.Errorf("shard %s: node ID %q is not in the group's configuration %v: was the data dir written with another --node-id?", s.id, id, ids)
	}
	return voters == 1 && len(ids) == 1, nil
}

// electNow lets a lone voter elect itself at once instead of after a full
// heartbeat timeout (1-2 s by default). It is safe: with one voter there is
// no other server whose leadership could overlap, and the leader lease
// counts the leader itself, so it never steps down for lack of contact.
// Lowering the heartbeat timeout through ReloadConfig wakes the follower
// loop, which finds no contact ever made and starts the election. The
// lowered value is the leader lease (Raft requires lease <= heartbeat);
// the group's leader restores the configured one once a voter joins.
func (s *Shard) electNow() { electAtOnce(s.r, s.conf, s.logger) }

// restoreTimeouts undoes electNow once the group has other voters: with
// peers, a follower must wait the configured heartbeat timeout before it
// campaigns, or it would disrupt a healthy leader.
func (s *Shard) restoreTimeouts() { restoreTimeouts(s.r, s.conf, s.logger) }

// electAtOnce lowers a lone voter's heartbeat timeout to its leader lease
// (Raft requires lease <= heartbeat), which wakes the follower loop: it has
// never heard from a leader, so it elects itself at once. Shards and the
// meta group share it.
func electAtOnce(r *raft.Raft, conf *raft.Config, logger *slog.Logger) {
	if conf.HeartbeatTimeout <= conf.LeaderLeaseTimeout {
		return
	}
	rc := reloadable(conf)
	rc.HeartbeatTimeout, rc.ElectionTimeout = conf.LeaderLeaseTimeout, min(conf.ElectionTimeout, conf.LeaderLeaseTimeout)
	if err := r.ReloadConfig(rc); err != nil {
		logger.Warn("lone voter: keep the configured election timeouts", "err", err)
	}
}

// restoreTimeouts puts conf's election timeouts back if electAtOnce
// lowered them.
func restoreTimeouts(r *raft.Raft, conf *raft.Config, logger *slog.Logger) {
	if r.ReloadableConfig().HeartbeatTimeout == conf.HeartbeatTimeout {
		return
	}
	if err := r.ReloadConfig(reloadable(conf)); err != nil {
		logger.Warn("restore the configured election timeouts", "err", err)
	}
}

func reloadable(conf *raft.Config) raft.ReloadableConfig {
	return raft.ReloadableConfig{
		TrailingLogs: conf.TrailingLogs, SnapshotInterval: conf.SnapshotInterval,
		SnapshotThreshold: conf.SnapshotThreshold,
		HeartbeatTimeout:  conf.HeartbeatTimeout, ElectionTimeout: conf.ElectionTimeout,
	}
}

// Bootstrap forms the group with servers as its voters, once: the caller
// (the node named first in the shard's placement) has checked that the
// cluster configuration does not say the group was formed already.
// Bootstrapping a directory that holds Raft state fails.
func (s *Shard) Bootstrap(servers []raft.Server) error {
	if err := s.r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		return fmt.Errorf("shard %s: bootstrap: %w", s.id, err)
	}
	s.logger.Info("bootstrapped the group", "voters", len(servers))
	if len(servers) == 1 && servers[0].ID == s.conf.LocalID {
		s.electNow()
	}
	return nil
}

// raftConfig is hashicorp/raft's default configuration with cfg's
// settings; notify (may be nil) receives leadership changes.
func raftConfig(cfg ShardConfig, hl hclog.Logger, notify chan bool) *raft.Config {
	conf := raft.DefaultConfig()
	conf.LocalID = raft.ServerID(cfg.NodeID)
	conf.Logger = hl
	conf.NotifyCh = notify
	if cfg.SnapshotThreshold > 0 {
		conf.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.SnapshotInterval > 0 {
		conf.SnapshotInterval = cfg.SnapshotInterval
	}
	if cfg.TrailingLogs > 0 {
		conf.TrailingLogs = cfg.TrailingLogs
	}
	if cfg.HeartbeatTimeout > 0 {
		conf.HeartbeatTimeout = cfg.HeartbeatTimeout
	}
	if cfg.ElectionTimeout > 0 {
		conf.ElectionTimeout = cfg.ElectionTimeout
	}
	if cfg.LeaderLeaseTimeout > 0 {
		conf.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	}
	return conf
}

// bootstrapOnce writes the one-voter configuration, but only into a
// directory that has no Raft state: a node that ever ran never bootstraps
// again (that could fork the group's history).
func (s *Shard) bootstrapOnce(conf *raft.Config) error {
	existing, err := raft.HasExistingState(s.store, s.store, s.snaps)
	if err != nil {
		return fmt.Errorf("shard %s: check raft state: %w", s.id, err)
	}
	if existing {
		return nil
	}
	voters := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter, ID: conf.LocalID, Address: s.transport.LocalAddr(),
	}}}
	if err := raft.BootstrapCluster(conf, s.store, s.store, s.snaps, s.transport, voters); err != nil {
		return fmt.Errorf("shard %s: bootstrap: %w", s.id, err)
	}
	s.logger.Info("bootstrapped a one-voter group", "id", conf.LocalID, "raft_addr", s.transport.LocalAddr())
	return nil
}

// newTransport builds the Raft transport: over cfg.Layer (the node's one
// multiplexed port) or, for a lone shard, plain TCP on its own listener.
func newTransport(cfg ShardConfig, hl hclog.Logger) (*raft.NetworkTransport, error) {
	if cfg.Layer != nil {
		return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: cfg.Layer, MaxPool: transportPool, Timeout: transportTimeout, Logger: hl,
		}), nil
	}
	ln, adv, err := listenRaft(cfg.RaftListener, cfg.RaftAddr, cfg.RaftAdvertise)
	if err != nil {
		return nil, err
	}
	if adv == nil {
		adv = ln.Addr()
	}
	layer := &streamLayer{Listener: ln, advertise: adv}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: transportPool, Timeout: transportTimeout, Logger: hl,
	}), nil
}

// streamLayer is a raft.StreamLayer over a TCP listener whose advertised
// address may differ from the one it is bound to.
type streamLayer struct {
	net.Listener
	advertise net.Addr
}

func (l *streamLayer) Addr() net.Addr { return l.advertise }

func (l *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", string(addr))
}

// start runs the shard's goroutines: leadership watcher, proposer, reads.
func (s *Shard) start() {
	s.prop = newProposer(s.r, s.stop, s.raftDown, s.logger)
	if s.clock != nil {
		s.prop.clock = s.clock
	}
	s.prop.resolve = s.resolve
	s.prop.start()
	s.reads = newReadIndex(s.r, &s.fsm.applied, s.Ready, s.stop, s.raftDown)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.reads.run()
	}()
	go func() {
		defer s.wg.Done()
		s.watchLeadership()
	}()
}

// watchLeadership follows Raft's leadership notifications. On gaining
// leadership it waits for a barrier (an entry of the new term applied)
// before declaring the shard ready; on losing it, it wakes every blocked
// reader so they re-try and get redirected.
func (s *Shard) watchLeadership() {
	for {
		select {
		case leader := <-s.notifyCh:
			s.mu.Lock()
			s.epoch++
			s.ready = false
			epoch := s.epoch
			s.mu.Unlock()
			if leader {
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.establish(epoch)
				}()
			} else {
				s.logger.Info("lost leadership")
				s.waits.SignalAll()
			}
			if s.onLeadership != nil {
				s.onLeadership()
			}
		case <-s.stop:
			return
		}
	}
}

func (s *Shard) establish(epoch uint64) {
	f := s.r.Barrier(0)
	if err := awaitFuture(f, s.raftDown); err != nil {
		s.logger.Debug("leadership barrier failed", "err", err)
		return
	}
	// Barriers do not reach the FSM, but once this one is done everything
	// before it is applied: the applied index may count it.
	if idx, ok := f.(raft.IndexFuture); ok {
		s.fsm.applied.advance(idx.Index())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch == epoch && s.r.State() == raft.Leader {
		s.ready = true
		s.logger.Info("leader ready", "applied_index", s.fsm.applied.get())
		if s.onLeadership != nil {
			s.onLeadership()
		}
	}
}

// Ready reports whether this node leads the shard and has applied its log
// up to an entry of the current term, so it can serve reads and writes.
func (s *Shard) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// WaitReady blocks until the shard is Ready, ctx ends or the shard closes.
func (s *Shard) WaitReady(ctx context.Context) error {
	const poll = 10 * time.Millisecond // leadership changes are rare; cheap to poll
	t := time.NewTicker(poll)
	defer t.Stop()
	for !s.Ready() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("shard %s: wait for leadership: %w", s.id, ctx.Err())
		case <-s.stop:
			return ErrShutdown
		}
	}
	return nil
}

// Write proposes req and returns its reply once applied.
func (s *Shard) Write(ctx context.Context, req fsm.Request) (fsm.Reply, error) {
	return s.prop.Propose(ctx, req)
}

// Submit proposes req without waiting: wait returns its reply (see
// proposer.Submit for the ordering).
func (s *Shard) Submit(ctx context.Context, req fsm.Request) (wait func() (fsm.Reply, error)) {
	return s.prop.Submit(ctx, req)
}

// Read runs fn after a read-index barrier.
func (s *Shard) Read(ctx context.Context, fn func(*fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	if err := s.reads.barrier(ctx); err != nil {
		return fsm.Reply{}, err
	}
	return fn(s.m), nil
}

// Watch registers interest in keys (see WaitRegistry.Watch).
func (s *Shard) Watch(keys []string) (<-chan struct{}, func()) {
	return s.waits.Watch(keys)
}

// Leader reports whether this node leads the shard (it may not be Ready
// yet).
func (s *Shard) Leader() bool { return s.r.State() == raft.Leader }

// ShardStatus describes a shard for health checks and /status.
type ShardStatus struct {
	ID         string `json:"id"`
	SlotLo     int    `json:"slot_lo"` // first slot the shard owns (set by Node)
	SlotHi     int    `json:"slot_hi"` // last slot the shard owns
	State      string `json:"state"`
	Leader     bool   `json:"leader"`
	Ready      bool   `json:"ready"`
	LeaderID   string `json:"leader_id"`
	LeaderAddr string `json:"leader_addr"` // the leader's Raft port
	// ReplicaID is this replica's ID (identity.go); Suffrage how the
	// group's configuration, as this replica knows it, lists it: "voter",
	// "nonvoter", or "" while its leader has not added it.
	ReplicaID string `json:"replica_id"`
	Suffrage  string `json:"suffrage"`
	// Voters and Nonvoters are the group's members (node IDs) in its
	// configuration as this replica knows it.
	Voters       []string `json:"voters"`
	Nonvoters    []string `json:"nonvoters,omitempty"`
	Term         uint64   `json:"term"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	// RaftApplied counts every applied entry, configuration changes too.
	RaftApplied       uint64 `json:"raft_applied_index"`
	LastSnapshotIndex uint64 `json:"last_snapshot_index"`
	LastSnapshotTerm  uint64 `json:"last_snapshot_term"`
	// Group commit, counted while this node led the shard (since start):
	// log entries proposed, the commands they carried (their ratio is the
	// average batch), and the moving average of an entry's time from
	// proposal to apply.
	ProposedEntries  uint64  `json:"proposed_entries"`
	ProposedRequests uint64  `json:"proposed_requests"`
	CommitMillis     float64 `json:"commit_ms"`
	// Replicated: the group had other voters when this node last
	// committed an entry as its leader, so a batch may wait for the
	// callers the entry before answered (see proposer.linger).
	Replicated bool `json:"replicated"`
	// Writes whose future failed after they reached the log (the leader
	// changed), by what the resolution found: committed after all (the
	// callers got their replies), discarded (they got a redirect), or
	// unknown (they got UNCERTAIN).
	ResolvedCommitted uint64 `json:"resolved_committed"`
	ResolvedDiscarded uint64 `json:"resolved_discarded"`
	ResolvedUnknown   uint64 `json:"resolved_unknown"`
	// DiskError is the last log or stable-store write error while this
	// replica's writes fail (a full or failing disk): it then neither
	// acknowledges, votes nor leads. "" while writes succeed.
	DiskError string `json:"disk_error,omitempty"`
}

// Status returns the shard's current state.
func (s *Shard) Status() ShardStatus {
	addr, id := s.r.LeaderWithID()
	leaderPort, _ := splitReplicaAddr(string(addr))
	st := ShardStatus{
		ID: s.id, State: s.r.State().String(), Leader: s.r.State() == raft.Leader,
		Ready: s.Ready(), LeaderID: string(id), LeaderAddr: leaderPort,
		ReplicaID: s.ReplicaID(), Suffrage: s.Suffrage(),
		Term: s.r.CurrentTerm(), CommitIndex: s.r.CommitIndex(), AppliedIndex: s.fsm.applied.get(),
		RaftApplied:     s.r.AppliedIndex(),
		ProposedEntries: s.prop.entries.Load(), ProposedRequests: s.prop.requests.Load(),
		CommitMillis:      float64(s.prop.commitNanos.Load()) / float64(time.Millisecond),
		Replicated:        s.prop.replicated.Load(),
		DiskError:         s.disk.DiskError(),
		ResolvedCommitted: s.prop.resolved[resolvedCommitted].Load(),
		ResolvedDiscarded: s.prop.resolved[resolvedDiscarded].Load(),
		ResolvedUnknown:   s.prop.resolved[resolvedUnknown].Load(),
	}
	for _, srv := range s.Servers() {
		if srv.Suffrage == raft.Voter {
			st.Voters = append(st.Voters, string(srv.ID))
		} else {
			st.Nonvoters = append(st.Nonvoters, string(srv.ID))
		}
	}
	if metas, err := s.snaps.List(); err == nil && len(metas) > 0 {
		st.LastSnapshotIndex, st.LastSnapshotTerm = metas[0].Index, metas[0].Term
	}
	return st
}

// Close stops the shard: queued writes and waiting reads get ErrShutdown,
// blocked readers are woken, Raft shuts down, then the transport and the
// stores close. It is safe to call more than once.
func (s *Shard) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.mu.Lock()
		s.epoch++
		s.ready = false
		s.mu.Unlock()
		var errs []error
		stuck := false
		if err := shutdownRaft(s.r); err != nil {
			errs = append(errs, err)
			stuck = errors.Is(err, errRaftStuck)
		}
		close(s.raftDown)
		<-s.prop.exited
		s.wg.Wait()
		s.waits.Close()
		if stuck {
			// Raft still waits for its disk (holdStable): its store
			// stays open, and its goroutine is left behind.
			errs = append(errs, s.transport.Close())
		} else {
			errs = append(errs, s.closeStores())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("shard %s: close: %w", s.id, err)
		}
	})
	return s.closeErr
}

func (s *Shard) closeStores() error {
	var errs []error
	if s.transport != nil {
		if err := s.transport.Close(); err != nil {
			errs = append(errs, fmt.Errorf("transport: %w", err))
		}
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("log store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// listenRaft returns ln, or a new listener on addr when ln is nil, and the
// advertised address parsed from advertise (nil when advertise is empty:
// the caller decides what that means).
func listenRaft(ln net.Listener, addr, advertise string) (net.Listener, net.Addr, error) {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, nil, fmt.Errorf("listen raft: %w", err)
		}
	}
	if advertise == "" {
		return ln, nil, nil
	}
	a, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		_ = ln.Close()
		return nil, nil, fmt.Errorf("raft advertise address: %w", err)
	}
	return ln, a, nil
}

// newestSnapshot shows hashicorp/raft only the newest snapshot. When a
// snapshot cannot be restored, raft falls back to an older one, which the
// log may no longer cover: it then panics at start ("log not found"), at
// every start. With the newest alone, it fails with an error instead. The
// files were verified before (checkOnOpen): a damaged newest snapshot was
// already moved aside if an older one could replace it.
type newestSnapshot struct{ *raft.FileSnapshotStore }

func (s newestSnapshot) List() ([]*raft.SnapshotMeta, error) {
	metas, err := s.FileSnapshotStore.List()
	if len(metas) > 1 {
		metas = metas[:1]
	}
	return metas, err
}

// raftShutdownWait bounds a Raft shutdown: Raft waits for a write of its
// term or vote while the disk fails (holdStable), and a node must still
// be able to stop.
const raftShutdownWait = 10 * time.Second

var errRaftStuck = errors.New("raft did not stop: it is waiting for its disk")

// shutdownRaft stops r, or gives up after raftShutdownWait.
func shutdownRaft(r *raft.Raft) error {
	f := r.Shutdown()
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	t := time.NewTimer(raftShutdownWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("raft shutdown: %w", err)
		}
		return nil
	case <-t.C:
		return errRaftStuck
	}
}

// Digest is this replica's state as a digest (fsm.Snapshot.Digest) and
// the Raft index this replica had applied just before: replicas that
// applied the same log have the same digest. It is answered from this
// replica alone, whatever its role.
func (s *Shard) Digest() (applied uint64, digest string, err error) {
	applied = s.r.AppliedIndex()
	digest, err = s.m.Snapshot().Digest()
	return applied, digest, err
}
