package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The mux header that opens every connection to a node's Raft port:
//
//	muxMagic (1 byte) | field cluster ID | field group name | field replica ID
//	field: uvarint length | bytes
//
// then the group's Raft traffic. The cluster ID is the sender's (empty
// before it joined a cluster); the replica ID is the one the sender's
// group configuration names for this node's replica (identity.go), empty
// for the node RPC and for replicas from before replica IDs. Headers of
// the earlier format (muxMagicV1: the group name alone) are read as an
// empty cluster ID and replica ID. See DESIGN.md "One Raft port".
const (
	muxMagic   = 0xA8
	muxMagicV1 = 0xA7
	// maxGroupName bounds the name a peer may send: names are "shard-N"
	// or "meta", far shorter.
	maxGroupName = 64
	// maxHeaderField bounds the cluster and replica IDs in a header (32
	// and 16 hex characters today).
	maxHeaderField = 64
	// muxHeaderTimeout bounds the wait for a new connection's header, so a
	// silent peer cannot hold a goroutine.
	muxHeaderTimeout = 5 * time.Second
	// muxAcceptQueue is how many handed-over connections wait for each
	// group's transport to accept them.
	muxAcceptQueue = 16
)

// ErrMuxClosed is returned by a closed Mux or group layer.
var ErrMuxClosed = errors.New("cluster: raft mux closed")

// Mux shares one TCP listener among many Raft groups: each outgoing
// connection names its group in a short header, and the accept loop hands
// each incoming connection to that group's layer. Use Layer to get a
// group's raft.StreamLayer, and Close to stop everything.
type Mux struct {
	ln        net.Listener
	advertise net.Addr
	logger    *slog.Logger
	// dial opens connections to other nodes' Raft ports; tests replace it
	// to put faults on the links (NodeConfig.Dial).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	clusterID atomic.Pointer[string] // this node's cluster ID; "" until it joins one
	refused   refusals

	mu      sync.Mutex
	layers  map[string]*muxLayer
	pending map[net.Conn]struct{} // connections whose header is being read
	closed  bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewMux starts serving ln. advertise is the address peers dial (nil: the
// listener's). The Mux owns ln from now on.
func NewMux(ln net.Listener, advertise net.Addr, logger *slog.Logger) *Mux {
	if advertise == nil {
		advertise = ln.Addr()
	}
	if logger == nil {
		logger = slog.Default()
	}
	m := &Mux{
		ln: ln, advertise: advertise, logger: logger, dial: (&net.Dialer{}).DialContext,
		layers: make(map[string]*muxLayer), pending: make(map[net.Conn]struct{}),
		stop: make(chan struct{}),
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.acceptLoop()
	}()
	return m
}

// Addr is the address peers dial to reach this node's Raft port.
func (m *Mux) Addr() net.Addr { return m.advertise }

// SetClusterID sets the cluster ID this node sends in its headers and
// wants in its peers' (once it has one, a peer of another cluster is
// refused).
func (m *Mux) SetClusterID(id string) { m.clusterID.Store(&id) }

// ClusterID is the cluster ID set by SetClusterID, "" before.
func (m *Mux) ClusterID() string {
	if p := m.clusterID.Load(); p != nil {
		return *p
	}
	return ""
}

// Refused counts the connections this mux refused, by reason.
func (m *Mux) Refused() RefusedCounts { return m.refused.counts() }

// Layer registers group and returns its stream layer; a group may be
// registered once at a time (closing the layer frees the name). replica is
// the replica ID of this node's member of the group ("" for the RPC group
// and for replicas from before replica IDs): the layer advertises
// "<raft-addr>/<replica>" and accepts only connections that name it.
func (m *Mux) Layer(group, replica string) (raft.StreamLayer, error) {
	if group == "" || len(group) > maxGroupName {
		return nil, fmt.Errorf("mux group %q: want 1-%d bytes", group, maxGroupName)
	}
	if len(replica) > maxHeaderField {
		return nil, fmt.Errorf("mux group %q: replica ID %q too long", group, replica)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrMuxClosed
	}
	if _, dup := m.layers[group]; dup {
		return nil, fmt.Errorf("mux group %q: already registered", group)
	}
	l := &muxLayer{mux: m, group: group, replica: replica, addr: replicaNetAddr{m.advertise, replica},
		conns: make(chan net.Conn, muxAcceptQueue), done: make(chan struct{})}
	m.layers[group] = l
	return l, nil
}

// Close stops accepting, closes every layer (their Accept returns
// ErrMuxClosed) and every connection not yet handed over, and waits for the
// mux's goroutines. It is safe to call more than once.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.stop)
	err := m.ln.Close()
	for c := range m.pending {
		_ = c.Close()
	}
	layers := make([]*muxLayer, 0, len(m.layers))
	for _, l := range m.layers {
		layers = append(layers, l)
	}
	m.mu.Unlock()
	for _, l := range layers {
		_ = l.Close()
	}
	m.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close raft listener: %w", err)
	}
	return nil
}

func (m *Mux) acceptLoop() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.logger.Error("raft mux: accept failed; raft port closed", "err", err)
			return
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			_ = c.Close()
			return
		}
		m.pending[c] = struct{}{}
		m.wg.Add(1)
		m.mu.Unlock()
		go func() {
			defer m.wg.Done()
			m.handOver(c)
		}()
	}
}

// handOver reads c's header and queues c on its group's layer, or closes it.
func (m *Mux) handOver(c net.Conn) {
	h, err := readMuxHeader(c)
	m.mu.Lock()
	delete(m.pending, c)
	l := m.layers[h.group]
	closed := m.closed
	m.mu.Unlock()
	remote := c.RemoteAddr().String()
	switch {
	case closed:
		_ = c.Close()
		return
	case err != nil:
		m.logger.Warn("raft mux: bad connection header; closing", "remote", remote, "err", err)
		_ = c.Close()
		return
	case h.cluster != "" && m.ClusterID() != "" && h.cluster != m.ClusterID():
		m.refused.add(refusedCluster)
		m.logger.Warn("raft mux: connection from another cluster; closing", "remote", remote, "group", h.group,
			"their_cluster_id", h.cluster, "cluster_id", m.ClusterID())
		_ = c.Close()
		return
	case l == nil:
		m.logger.Warn("raft mux: connection for an unknown group; closing", "remote", remote, "group", h.group)
		_ = c.Close()
		return
	case h.replica != l.replica:
		// The sender's configuration names a replica this node no longer
		// holds (its directory was wiped or rebuilt): it must not answer
		// as that replica. Its group's leader re-adds it under its new ID.
		m.refused.add(refusedReplica)
		m.logger.Debug("raft mux: connection for another replica; closing", "remote", remote, "group", h.group,
			"want_replica", h.replica, "replica", l.replica)
		_ = c.Close()
		return
	}
	if !l.deliver(c) {
		m.logger.Warn("raft mux: group not accepting; closing", "group", h.group)
		_ = c.Close()
	}
}

// muxHeader is what a connection's header says.
type muxHeader struct {
	cluster string // the sender's cluster ID
	group   string
	replica string // the replica ID the sender expects here
}

// readMuxHeader reads the header within muxHeaderTimeout. It reads byte by
// byte, never past the header, so the Raft bytes after it stay in c.
func readMuxHeader(c net.Conn) (muxHeader, error) {
	var h muxHeader
	if err := c.SetReadDeadline(time.Now().Add(muxHeaderTimeout)); err != nil {
		return h, fmt.Errorf("set deadline: %w", err)
	}
	r := byteReader{c}
	magic, err := r.ReadByte()
	if err != nil {
		return h, fmt.Errorf("read magic: %w", err)
	}
	switch magic {
	case muxMagicV1:
		if h.group, err = readField(r, "group name", 1, maxGroupName); err != nil {
			return h, err
		}
	case muxMagic:
		if h.cluster, err = readField(r, "cluster ID", 0, maxHeaderField); err != nil {
			return h, err
		}
		if h.group, err = readField(r, "group name", 1, maxGroupName); err != nil {
			return h, err
		}
		if h.replica, err = readField(r, "replica ID", 0, maxHeaderField); err != nil {
			return h, err
		}
	default:
		return h, fmt.Errorf("magic byte 0x%02x; want 0x%02x", magic, muxMagic)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return h, fmt.Errorf("clear deadline: %w", err)
	}
	return h, nil
}

// readField reads one length-prefixed header field of lo to hi bytes.
func readField(r byteReader, what string, lo, hi uint64) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", fmt.Errorf("read %s length: %w", what, err)
	}
	if n < lo || n > hi {
		return "", fmt.Errorf("%s length %d; want %d-%d", what, n, lo, hi)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	return string(b), nil
}

// appendMuxHeader appends the header of a connection to group's replica
// replica, from a node of cluster cluster.
func appendMuxHeader(b []byte, cluster, group, replica string) []byte {
	b = append(b, muxMagic)
	for _, f := range []string{cluster, group, replica} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// byteReader reads one byte at a time from a reader (no read-ahead).
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var one [1]byte
	_, err := io.ReadFull(b.r, one[:])
	return one[0], err
}

var _ io.ByteReader = byteReader{}

// muxLayer is one group's raft.StreamLayer on a Mux.
type muxLayer struct {
	mux     *Mux
	group   string
	replica string         // this node's replica of the group; "" for the RPC group
	addr    replicaNetAddr // what the layer advertises
	conns   chan net.Conn
	done    chan struct{}

	mu     sync.Mutex // orders deliver against Close: no conn is left queued
	closed bool
}

// deliver queues c for Accept; false if the layer is closed or its queue
// is full (the transport stopped accepting; the dialer will retry).
func (l *muxLayer) deliver(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	select {
	case l.conns <- c:
		return true
	default:
		return false
	}
}

var _ raft.StreamLayer = (*muxLayer)(nil)

// Accept returns the next connection the mux handed to this group.
func (l *muxLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, ErrMuxClosed
	}
}

// Close unregisters the group and closes the connections still queued for
// it; Accept returns ErrMuxClosed. The mux itself keeps serving others.
func (l *muxLayer) Close() error {
	l.mux.mu.Lock()
	if l.mux.layers[l.group] == l {
		delete(l.mux.layers, l.group)
	}
	l.mux.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.done)
	for {
		select {
		case c := <-l.conns:
			_ = c.Close()
		default:
			return nil
		}
	}
}

// Addr is this replica's address: the node's advertised Raft address and
// the replica ID ("<raft-addr>/<replica-id>").
func (l *muxLayer) Addr() net.Addr { return l.addr }

// Dial connects to a peer's Raft port and names this group and the replica
// the address names, so the peer's mux hands the connection to that
// replica, or refuses it if the peer no longer holds it.
func (l *muxLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	host, replica := splitReplicaAddr(string(addr))
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c, err := l.mux.dial(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(timeout))
	}
	if _, err := c.Write(appendMuxHeader(nil, l.mux.ClusterID(), l.group, replica)); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("write mux header to %s: %w", addr, err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("clear write deadline: %w", err)
	}
	return c, nil
}

// replicaNetAddr is a replica's address as a net.Addr.
type replicaNetAddr struct {
	node    net.Addr
	replica string
}

func (a replicaNetAddr) Network() string { return a.node.Network() }
func (a replicaNetAddr) String() string  { return replicaAddr(a.node.String(), a.replica) }

// Reasons a mux refuses a connection, counted (Node.Status).
const (
	refusedCluster = iota // the sender belongs to another cluster
	refusedReplica        // the sender wants a replica this node no longer holds
	refusedReasons
)

type refusals struct{ n [refusedReasons]atomic.Uint64 }

func (r *refusals) add(reason int) { r.n[reason].Add(1) }

func (r *refusals) counts() RefusedCounts {
	return RefusedCounts{OtherCluster: r.n[refusedCluster].Load(), StaleReplica: r.n[refusedReplica].Load()}
}

// RefusedCounts is how many connections a node's Raft port refused.
type RefusedCounts struct {
	// OtherCluster: the sender's cluster ID is not this node's.
	OtherCluster uint64 `json:"other_cluster"`
	// StaleReplica: the sender's configuration names a replica this node
	// no longer holds (its directory was wiped or rebuilt).
	StaleReplica uint64 `json:"stale_replica"`
}
