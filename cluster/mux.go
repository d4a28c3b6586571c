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
	"time"

	"github.com/hashicorp/raft"
)

// The mux header that opens every connection to a node's Raft port:
//
//	muxMagic (1 byte) | uvarint length of the group name | group name
//
// then the group's Raft traffic. See DESIGN.md "One Raft port".
const (
	muxMagic = 0xA7
	// maxGroupName bounds the name a peer may send: names are "shard-N"
	// or "meta", far shorter.
	maxGroupName = 64
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

// Layer registers group and returns its stream layer; a group may be
// registered once at a time (closing the layer frees the name).
func (m *Mux) Layer(group string) (raft.StreamLayer, error) {
	if group == "" || len(group) > maxGroupName {
		return nil, fmt.Errorf("mux group %q: want 1-%d bytes", group, maxGroupName)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrMuxClosed
	}
	if _, dup := m.layers[group]; dup {
		return nil, fmt.Errorf("mux group %q: already registered", group)
	}
	l := &muxLayer{mux: m, group: group, conns: make(chan net.Conn, muxAcceptQueue), done: make(chan struct{})}
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
	group, err := readMuxHeader(c)
	m.mu.Lock()
	delete(m.pending, c)
	l := m.layers[group]
	closed := m.closed
	m.mu.Unlock()
	switch {
	case closed:
		_ = c.Close()
		return
	case err != nil:
		m.logger.Warn("raft mux: bad connection header; closing", "remote", c.RemoteAddr().String(), "err", err)
		_ = c.Close()
		return
	case l == nil:
		m.logger.Warn("raft mux: connection for an unknown group; closing", "remote", c.RemoteAddr().String(), "group", group)
		_ = c.Close()
		return
	}
	if !l.deliver(c) {
		m.logger.Warn("raft mux: group not accepting; closing", "group", group)
		_ = c.Close()
	}
}

// readMuxHeader reads the header within muxHeaderTimeout. It reads byte by
// byte, never past the header, so the Raft bytes after it stay in c.
func readMuxHeader(c net.Conn) (string, error) {
	if err := c.SetReadDeadline(time.Now().Add(muxHeaderTimeout)); err != nil {
		return "", fmt.Errorf("set deadline: %w", err)
	}
	r := byteReader{c}
	magic, err := r.ReadByte()
	if err != nil {
		return "", fmt.Errorf("read magic: %w", err)
	}
	if magic != muxMagic {
		return "", fmt.Errorf("magic byte 0x%02x; want 0x%02x", magic, muxMagic)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", fmt.Errorf("read group name length: %w", err)
	}
	if n == 0 || n > maxGroupName {
		return "", fmt.Errorf("group name length %d; want 1-%d", n, maxGroupName)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(c, name); err != nil {
		return "", fmt.Errorf("read group name: %w", err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return "", fmt.Errorf("clear deadline: %w", err)
	}
	return string(name), nil
}

// appendMuxHeader appends the header that names group.
func appendMuxHeader(b []byte, group string) []byte {
	b = append(b, muxMagic)
	b = binary.AppendUvarint(b, uint64(len(group)))
	return append(b, group...)
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
	mux   *Mux
	group string
	conns chan net.Conn
	done  chan struct{}

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

// Addr is the node's advertised Raft address, the same for every group.
func (l *muxLayer) Addr() net.Addr { return l.mux.advertise }

// Dial connects to a peer's Raft port and names this group, so the peer's
// mux hands the connection to the same group there.
func (l *muxLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c, err := l.mux.dial(ctx, "tcp", string(addr))
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(timeout))
	}
	if _, err := c.Write(appendMuxHeader(nil, l.group)); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("write mux header to %s: %w", addr, err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("clear write deadline: %w", err)
	}
	return c, nil
}
