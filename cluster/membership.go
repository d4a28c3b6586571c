package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Membership discovers the other nodes and gossips their liveness and
// addresses (hashicorp/memberlist). It decides nothing about Raft groups:
// joining a group, moving or removing replicas are Raft configuration
// changes proposed by the group's leader ("memberlist discovers, Raft
// decides").
type Membership struct {
	list *memberlist.Memberlist
	// table is the pool as memberlist's event callbacks reported it, each
	// node copied while memberlist held its lock: memberlist.Members
	// returns pointers to nodes it keeps changing, which cannot be read
	// safely.
	table  *memberTable
	meta   *metaDelegate
	cfg    MembershipConfig
	logger *slog.Logger
	events *eventQueue
	done   chan struct{} // closed when the event loop has returned

	shutdownOnce sync.Once
	shutdownErr  error
}

// MembershipConfig configures StartMembership.
type MembershipConfig struct {
	// NodeID is the node's name in the gossip pool; it must be unique.
	NodeID string
	// BindAddr is the gossip host:port (UDP and TCP); port 0 picks a free
	// one. A host name is resolved once, at start.
	BindAddr string
	// AdvertiseAddr is the host:port the others reach this node's gossip
	// at; empty means BindAddr (memberlist picks a private IP when
	// BindAddr's host is a wildcard).
	AdvertiseAddr string
	// RESPAddr, RaftAddr and HTTPAddr are this node's advertised
	// addresses, gossiped as its metadata; MetaAddr is the address of its
	// meta group replica (RaftAddr and the replica ID), which the meta
	// leader adds to the group.
	RESPAddr, RaftAddr, HTTPAddr, MetaAddr string
	// ClusterID is the cluster this node already belongs to ("" for a new
	// node): gossiped from the first message on, with the formed flag, so
	// that no other cluster mistakes a restarted node for a new one.
	ClusterID string
	// OnEvent, if set, is called for every join, leave and update, one at a
	// time in order, from a goroutine of its own (it may call Members).
	OnEvent func(MemberEvent)
	// WrapTransport, if set, wraps the transport memberlist gossips over
	// (tests put network faults there).
	WrapTransport func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
	// Tune, if set, adjusts memberlist's configuration (tests shorten its
	// intervals).
	Tune func(*memberlist.Config)
}

// Member is a node as the gossip pool sees it.
type Member struct {
	ID         string `json:"id"`
	GossipAddr string `json:"gossip_addr"`
	RESPAddr   string `json:"resp_addr,omitempty"`
	RaftAddr   string `json:"raft_addr,omitempty"`
	HTTPAddr   string `json:"http_addr,omitempty"`
	MetaAddr   string `json:"meta_addr,omitempty"`
	// ClusterID is the cluster the node belongs to, "" before it joined
	// one. A node ignores members of another cluster.
	ClusterID string `json:"cluster_id,omitempty"`
	// Formed: the node holds the cluster configuration (it belongs to a
	// formed cluster), so nobody who sees it bootstraps a new one.
	Formed bool `json:"formed"`
	// Alive: memberlist lists the node (it has not been found dead or
	// left). A suspected node stays alive here: memberlist reports no
	// suspicion to its delegates.
	Alive bool   `json:"alive"`
	State string `json:"state"` // alive, suspect, dead or left
}

// MemberEventKind says what happened to a member.
type MemberEventKind int

// The member event kinds.
const (
	MemberJoined  MemberEventKind = iota + 1
	MemberLeft                    // left gracefully or declared dead
	MemberUpdated                 // its metadata changed
)

func (k MemberEventKind) String() string {
	switch k {
	case MemberJoined:
		return "joined"
	case MemberLeft:
		return "left"
	case MemberUpdated:
		return "updated"
	default:
		return "event-" + strconv.Itoa(int(k))
	}
}

// MemberEvent is one change in the gossip pool.
type MemberEvent struct {
	Kind   MemberEventKind
	Member Member
}

// metaVersion is the version of the metadata encoding.
const metaVersion = 1

// nodeMeta is a node's gossiped metadata, small JSON (memberlist allows
// memberlist.MetaMaxSize bytes).
type nodeMeta struct {
	Version   int    `json:"v"`
	RESPAddr  string `json:"resp,omitempty"`
	RaftAddr  string `json:"raft,omitempty"`
	HTTPAddr  string `json:"http,omitempty"`
	MetaAddr  string `json:"meta,omitempty"`
	ClusterID string `json:"c,omitempty"`
	Formed    bool   `json:"f,omitempty"`
}

// StartMembership opens the gossip port and starts gossiping; call Join to
// find the others.
func StartMembership(ctx context.Context, cfg MembershipConfig, logger *slog.Logger) (*Membership, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.NodeID == "" {
		return nil, errors.New("membership: empty node ID")
	}
	meta, err := encodeNodeMeta(cfg, cfg.ClusterID != "", cfg.ClusterID)
	if err != nil {
		return nil, err
	}
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.NodeID
	if cfg.Tune != nil {
		cfg.Tune(mc)
	}
	if err := setAddrs(ctx, mc, cfg); err != nil {
		return nil, err
	}
	m := &Membership{logger: logger, cfg: cfg, meta: &metaDelegate{b: meta}, events: newEventQueue(), done: make(chan struct{}),
		table: &memberTable{nodes: map[string]memberlist.Node{}}}
	mc.Delegate = m.meta
	mc.Events = eventDelegate{q: m.events, table: m.table}
	mc.Logger = slog.NewLogLogger(logger.With("component", "memberlist").Handler(), slog.LevelDebug)
	if cfg.WrapTransport != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{mc.BindAddr}, BindPort: mc.BindPort, Logger: mc.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.BindAddr, err)
		}
		mc.Transport = cfg.WrapTransport(nt)
	}
	list, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.BindAddr, err)
	}
	m.list = list
	go m.eventLoop(cfg.OnEvent)
	return m, nil
}

func encodeNodeMeta(cfg MembershipConfig, formed bool, clusterID string) ([]byte, error) {
	meta, err := json.Marshal(nodeMeta{Version: metaVersion, RESPAddr: cfg.RESPAddr, RaftAddr: cfg.RaftAddr, HTTPAddr: cfg.HTTPAddr,
		MetaAddr: cfg.MetaAddr, ClusterID: clusterID, Formed: formed})
	if err != nil {
		return nil, fmt.Errorf("membership: encode metadata: %w", err)
	}
	if len(meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("membership: metadata is %d bytes, over memberlist's %d", len(meta), memberlist.MetaMaxSize)
	}
	return meta, nil
}

// SetFormed gossips that this node now holds the configuration of the
// cluster clusterID.
func (m *Membership) SetFormed(clusterID string) error {
	meta, err := encodeNodeMeta(m.cfg, true, clusterID)
	if err != nil {
		return err
	}
	if !m.meta.set(meta) {
		return nil
	}
	if err := m.list.UpdateNode(joinBackoffMax); err != nil {
		return fmt.Errorf("membership: gossip the formed flag: %w", err)
	}
	return nil
}

// setAddrs fills the bind and advertise addresses of mc.
func setAddrs(ctx context.Context, mc *memberlist.Config, cfg MembershipConfig) error {
	ip, port, err := resolveHostPort(ctx, cfg.BindAddr)
	if err != nil {
		return fmt.Errorf("membership: bind address %q: %w", cfg.BindAddr, err)
	}
	mc.BindAddr, mc.BindPort = ip, port
	mc.AdvertiseAddr, mc.AdvertisePort = "", port
	if cfg.AdvertiseAddr != "" {
		ip, port, err := resolveHostPort(ctx, cfg.AdvertiseAddr)
		if err != nil {
			return fmt.Errorf("membership: advertise address %q: %w", cfg.AdvertiseAddr, err)
		}
		mc.AdvertiseAddr, mc.AdvertisePort = ip, port
	} else if !net.ParseIP(mc.BindAddr).IsUnspecified() {
		mc.AdvertiseAddr = mc.BindAddr
	}
	return nil
}

// resolveHostPort splits host:port and resolves the host to one IP,
// preferring IPv4.
func resolveHostPort(ctx context.Context, addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port: %w", err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	if host == "" {
		return "0.0.0.0", int(port), nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), int(port), nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", 0, fmt.Errorf("resolve %s: %w", host, err)
	}
	best := ips[0].IP
	for _, a := range ips {
		if a.IP.To4() != nil {
			best = a.IP
			break
		}
	}
	return best.String(), int(port), nil
}

// Join backoff bounds.
const (
	joinBackoffMin = 100 * time.Millisecond
	joinBackoffMax = 5 * time.Second
)

// Join contacts the seeds (host:port, DNS names allowed; the list may hold
// this node's own address) until at least one other node is a member, or
// ctx ends. It retries with exponential backoff, so seeds that do not
// resolve or answer yet (pods still starting) are tried again.
func (m *Membership) Join(ctx context.Context, seeds []string) error {
	if len(seeds) == 0 {
		return errors.New("membership: join: no seeds")
	}
	backoff := joinBackoffMin
	for attempt := 1; ; attempt++ {
		n, err := m.list.Join(seeds)
		if m.list.NumMembers() > 1 {
			m.logger.Info("joined the gossip pool", "contacted", n, "members", m.list.NumMembers(), "attempts", attempt)
			return nil
		}
		if err == nil {
			err = errors.New("no other node answered")
		}
		m.logger.Debug("join attempt failed", "attempt", attempt, "seeds", seeds, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("membership: join %s: gave up after %d attempts: %w (last error: %w)",
				strings.Join(seeds, ","), attempt, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, joinBackoffMax)
	}
}

// Members returns the nodes the pool knows of, this one included, sorted by
// ID (nodes that left or were declared dead are not listed).
func (m *Membership) Members() []Member {
	nodes := m.table.list()
	out := make([]Member, 0, len(nodes))
	for i := range nodes {
		out = append(out, m.member(&nodes[i]))
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// LocalID is this node's ID in the pool.
func (m *Membership) LocalID() string { return m.cfg.NodeID }

// GossipAddr is the host:port the others reach this node's gossip at (the
// port chosen when the config asked for port 0).
func (m *Membership) GossipAddr() string {
	if n, ok := m.table.get(m.cfg.NodeID); ok {
		return n.Address()
	}
	return ""
}

// member converts a memberlist node.
func (m *Membership) member(n *memberlist.Node) Member {
	mem := Member{ID: n.Name, GossipAddr: n.Address(), Alive: n.State == memberlist.StateAlive, State: stateName(n.State)}
	var meta nodeMeta
	if err := json.Unmarshal(n.Meta, &meta); err != nil || meta.Version != metaVersion {
		m.logger.Debug("unreadable member metadata", "member", n.Name, "err", err, "version", meta.Version)
		return mem
	}
	mem.RESPAddr, mem.RaftAddr, mem.HTTPAddr, mem.Formed = meta.RESPAddr, meta.RaftAddr, meta.HTTPAddr, meta.Formed
	mem.MetaAddr, mem.ClusterID = meta.MetaAddr, meta.ClusterID
	return mem
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "dead"
	case memberlist.StateLeft:
		return "left"
	default:
		return "unknown"
	}
}

// Leave tells the others this node is leaving and waits up to timeout for
// the message to spread. Call Shutdown after it.
func (m *Membership) Leave(timeout time.Duration) error {
	if err := m.list.Leave(timeout); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	return nil
}

// Shutdown closes the gossip port and stops the event loop, without telling
// the others (they find the node failed): Leave first for a clean exit.
// Calling it again is harmless.
func (m *Membership) Shutdown() error {
	m.shutdownOnce.Do(func() {
		if err := m.list.Shutdown(); err != nil {
			m.shutdownErr = fmt.Errorf("membership: shutdown: %w", err)
		}
		m.events.close()
		<-m.done
	})
	return m.shutdownErr
}

// eventLoop hands the queued events to onEvent.
func (m *Membership) eventLoop(onEvent func(MemberEvent)) {
	defer close(m.done)
	for {
		evs, ok := m.events.wait()
		if !ok {
			return
		}
		for _, e := range evs {
			ev := MemberEvent{Kind: e.kind, Member: m.member(&e.node)}
			if onEvent != nil {
				onEvent(ev)
			}
		}
	}
}

// metaDelegate gossips the node's metadata and nothing else.
type metaDelegate struct {
	mu sync.Mutex
	b  []byte
}

// set replaces the metadata; false if it is unchanged.
func (d *metaDelegate) set(b []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if string(d.b) == string(b) {
		return false
	}
	d.b = b
	return true
}

func (d *metaDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.b) > limit {
		return nil // encodeNodeMeta checked MetaMaxSize; not reached
	}
	return d.b
}
func (*metaDelegate) NotifyMsg([]byte)                  {}
func (*metaDelegate) GetBroadcasts(_, _ int) [][]byte   { return nil }
func (*metaDelegate) LocalState(bool) []byte            { return nil }
func (*metaDelegate) MergeRemoteState(_ []byte, _ bool) {}

// eventDelegate keeps the member table and queues memberlist's
// notifications: memberlist calls them holding its node lock, so they
// must neither block nor call back.
type eventDelegate struct {
	q     *eventQueue
	table *memberTable
}

func (d eventDelegate) NotifyJoin(n *memberlist.Node) {
	d.table.put(n)
	d.q.push(MemberJoined, n)
}

func (d eventDelegate) NotifyLeave(n *memberlist.Node) {
	d.table.remove(n.Name)
	d.q.push(MemberLeft, n)
}

func (d eventDelegate) NotifyUpdate(n *memberlist.Node) {
	d.table.put(n)
	d.q.push(MemberUpdated, n)
}

// memberTable is the live members by name, copies of memberlist's nodes.
// memberlist reports a node dead or left through NotifyLeave (it has no
// callback for suspicion: a suspect stays listed, alive).
type memberTable struct {
	mu    sync.Mutex
	nodes map[string]memberlist.Node
}

func (t *memberTable) put(n *memberlist.Node) {
	c := *n
	c.Meta = slices.Clone(n.Meta)
	c.State = memberlist.StateAlive
	t.mu.Lock()
	t.nodes[n.Name] = c
	t.mu.Unlock()
}

func (t *memberTable) remove(name string) {
	t.mu.Lock()
	delete(t.nodes, name)
	t.mu.Unlock()
}

func (t *memberTable) get(name string) (memberlist.Node, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.nodes[name]
	return n, ok
}

func (t *memberTable) list() []memberlist.Node {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]memberlist.Node, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, n)
	}
	return out
}

type queuedEvent struct {
	kind MemberEventKind
	node memberlist.Node // a copy: memberlist reuses its own
}

// eventQueue is an unbounded FIFO between memberlist's callbacks and the
// event loop.
type eventQueue struct {
	mu     sync.Mutex
	evs    []queuedEvent
	closed bool
	wake   chan struct{} // 1-buffered
}

func newEventQueue() *eventQueue { return &eventQueue{wake: make(chan struct{}, 1)} }

func (q *eventQueue) push(kind MemberEventKind, n *memberlist.Node) {
	e := queuedEvent{kind: kind, node: *n}
	e.node.Meta = slices.Clone(n.Meta)
	q.mu.Lock()
	if !q.closed {
		q.evs = append(q.evs, e)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// wait returns the queued events, blocking until there are some; false
// once the queue is closed.
func (q *eventQueue) wait() ([]queuedEvent, bool) {
	for {
		q.mu.Lock()
		evs, closed := q.evs, q.closed
		q.evs = nil
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		if len(evs) > 0 {
			return evs, true
		}
		<-q.wake
	}
}
