package resp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the RESP server's configuration.
type Config struct {
	// MaxBulkBytes is the largest bulk string a client may send
	// (proto-max-bulk-len). Default 512 MiB.
	MaxBulkBytes int64
	// MaxQueryBytes bounds one command's total size
	// (client-query-buffer-limit). Default 1 GiB.
	MaxQueryBytes int
	// MaxClients is the most connections served at once. Default 10000.
	MaxClients int
	// Port is the TCP port reported by INFO.
	Port int
	// RunID and NodeID identify this process and node in INFO.
	RunID, NodeID string
	// Version is the Redis version reported to clients (HELLO, INFO);
	// default "7.0.15", the version whose behaviour streamraft follows.
	Version string
	// ServerVersion is streamraft's own version, shown in INFO.
	ServerVersion string
	// ClusterEnabled reports cluster mode (HELLO mode, INFO cluster,
	// CONFIG GET cluster-enabled); the CLUSTER topology commands answer
	// either way.
	ClusterEnabled bool
	// AdvertiseAddr is the host:port clients are sent to, reported by
	// CLUSTER SLOTS, SHARDS and NODES. Empty: an empty ip and Port, as
	// Redis shows a node that does not know its own address.
	AdvertiseAddr string
	// BusPort is the cluster bus port CLUSTER NODES shows after '@' (the
	// node's Raft port); 0 means Port+10000, Redis's default.
	BusPort int
	// StreamNodeMaxEntries and StreamNodeMaxBytes are what CONFIG GET
	// reports (defaults 100 and 4096). CONFIG SET records them only: the
	// fsm's stream block size is fixed.
	StreamNodeMaxEntries int64
	StreamNodeMaxBytes   int64
	// Proxy makes the node forward a keyed command whose shard another
	// node leads (the Backend answers *MovedError) to that leader and relay
	// its reply, for clients that do not follow MOVED; proxy.go says how
	// and its limits. Off, the client gets the MOVED error.
	Proxy bool
}

func (c Config) withDefaults() Config {
	if c.MaxBulkBytes <= 0 {
		c.MaxBulkBytes = 512 << 20
	}
	if c.MaxQueryBytes <= 0 {
		c.MaxQueryBytes = 1 << 30
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 10000
	}
	if c.Version == "" {
		c.Version = "7.0.15"
	}
	if c.StreamNodeMaxEntries == 0 {
		c.StreamNodeMaxEntries = 100
	}
	if c.StreamNodeMaxBytes == 0 {
		c.StreamNodeMaxBytes = 4096
	}
	return c
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("resp: server closed")

// Server serves RESP clients.
type Server struct {
	backend Backend
	log     *slog.Logger
	table   *table
	started time.Time

	base       context.Context // canceled when Shutdown gives up waiting
	cancelBase context.CancelFunc
	quit       chan struct{} // closed by Shutdown
	quitOnce   sync.Once

	mu        sync.Mutex
	cfg       Config // CONFIG SET changes some fields; guarded by mu
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup

	nextID atomic.Int64
	stats  stats
	groups *groupOrder // blocked XREADGROUP clients in blocking order
	proxy  *proxyPool  // connections to other nodes (Config.Proxy); closed by Shutdown
}

type stats struct {
	connections atomic.Int64 // total_connections_received
	commands    atomic.Int64 // total_commands_processed
	rejected    atomic.Int64 // rejected_connections
	netIn       atomic.Int64 // total_net_input_bytes
	netOut      atomic.Int64 // total_net_output_bytes
	errors      atomic.Int64 // total_error_replies
	proxied     atomic.Int64 // commands forwarded to another node (Config.Proxy)
}

func (s *stats) reset() {
	for _, v := range []*atomic.Int64{&s.connections, &s.commands, &s.rejected, &s.netIn, &s.netOut, &s.errors, &s.proxied} {
		v.Store(0)
	}
}

// NewServer returns a server that runs commands against b.
func NewServer(cfg Config, b Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	base, cancel := context.WithCancel(context.Background())
	return &Server{
		backend: b, log: log.With("component", "resp"), table: newTable(), started: time.Now(),
		base: base, cancelBase: cancel, quit: make(chan struct{}),
		cfg: cfg.withDefaults(), listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{},
		groups: newGroupOrder(), proxy: newProxyPool(),
	}
}

func (s *Server) config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Serve accepts connections on ln until Shutdown; it then returns
// ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	select {
	case <-s.quit:
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	default:
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("resp: accept: %w", err)
		}
		delay = 0
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	s.stats.connections.Add(1)
	s.mu.Lock()
	select {
	case <-s.quit: // Shutdown began: its Wait must not race this Add
		s.mu.Unlock()
		nc.Close()
		return
	default:
	}
	if len(s.conns) >= s.cfg.MaxClients {
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write([]byte("-" + errMaxClients + "\r\n"))
		nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.execLoop()
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Shutdown stops accepting, lets every connection finish the command it is
// running and flush its replies, wakes blocked clients, and closes every
// connection. If ctx ends first, in-flight Backend calls are canceled and
// connections are closed at once; ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.quitOnce.Do(func() { close(s.quit) })
	defer s.proxy.close() // once no connection can use it
	s.mu.Lock()
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelBase()
		return nil
	case <-ctx.Done():
		s.cancelBase()
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return fmt.Errorf("resp: shutdown: %w", ctx.Err())
	}
}

// clients returns a snapshot of the connected clients, ordered by id.
// A connection already going away (killed, or its client gone: its ctx is
// canceled) is left out even before its goroutines end, as Redis frees a
// killed client at once: a second CLIENT KILL of it finds nothing.
func (s *Server) clients() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if c.ctx.Err() == nil {
			out = append(out, c)
		}
	}
	sortConns(out)
	return out
}
