package embed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamraft/streamraft/api"
	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/resp"
)

const (
	// leaderTimeout bounds the wait for this node to lead every shard and
	// replay their logs at start-up (a large log takes a while to replay).
	leaderTimeout = 5 * time.Minute
	// shutdownTimeout bounds each shutdown step.
	shutdownTimeout = 10 * time.Second
	// waitLogEvery is how often a node still waiting for its cluster says so.
	waitLogEvery = 10 * time.Second
	// Version is streamraft's version, reported by INFO and HELLO.
	Version = "0.1.0"
)

// Server is one running node: its listeners, HTTP side, cluster node and
// RESP server, wired as the binary runs them. Tests run several in one
// process.
type Server struct {
	cfg    Config
	logger *slog.Logger
	lns    *listeners
	http   *http.Server
	node   *cluster.Node

	mu       sync.Mutex // guards resp against a Close while Serve starts it
	closed   bool
	resp     *resp.Server
	respDone chan error // receives the RESP server's end; buffered
}

// Start opens the node (Open) and serves clients once the cluster can
// serve (Serve). On error everything started is stopped. cfg must have
// passed Validate.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Server, error) {
	s, err := Open(cfg, logger)
	if err != nil {
		return nil, err
	}
	if err := s.Serve(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Open opens the ports, serves HTTP (health answers at once) and opens
// the node, which joins or forms the cluster in the background. Clients
// are served only after Serve.
func Open(cfg Config, logger *slog.Logger) (_ *Server, err error) {
	lns, err := startListeners(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger, lns: lns, respDone: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var live liveNode
	s.http = startHTTP(lns.http, &live, logger)
	if s.node, err = startNode(cfg, lns, logger); err != nil {
		return nil, err
	}
	live.node.Store(s.node)
	return s, nil
}

// Serve waits until the cluster is formed and every shard has a leader,
// then serves RESP on the client port.
func (s *Server) Serve(ctx context.Context) error {
	if err := waitReady(ctx, s.cfg, s.node, s.logger); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return cluster.ErrShutdown
	}
	s.resp = startRESP(s.cfg, s.lns.resp, listenPort(s.lns.raft), s.node, s.logger, s.respDone)
	s.logger.Info("ready", "node_id", s.cfg.NodeID, "addr", s.lns.resp.Addr().String(), "advertise", s.cfg.Advertise,
		"raft_addr", s.lns.raft.Addr().String(), "http_addr", s.lns.http.Addr().String(), "data_dir", s.cfg.DataDir,
		"shards", s.node.Shards())
	return nil
}

// stopping marks the server closed and returns its RESP server, nil if
// Serve did not start one.
func (s *Server) stopping() *resp.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.resp
}

// Close shuts down in reverse order: RESP (in-flight commands are
// answered), HTTP, then the node (leaving the gossip pool, closing the Raft
// groups), then whatever listener nothing took over.
func (s *Server) Close() {
	if rs := s.stopping(); rs != nil {
		stopRESP(rs, s.respDone, s.logger)
	}
	if s.http != nil {
		stopHTTP(s.http, s.logger)
	}
	if s.node != nil {
		closeNode(s.node, s.logger)
	}
	s.lns.close()
}

type listeners struct{ resp, raft, http net.Listener }

// startListeners opens every port before anything starts, so a busy port
// fails fast.
func startListeners(cfg Config) (*listeners, error) {
	var lns listeners
	for _, l := range []struct {
		name, addr string
		dst        *net.Listener
	}{{"resp", cfg.Addr, &lns.resp}, {"raft", cfg.RaftAddr, &lns.raft}, {"http", cfg.HTTPAddr, &lns.http}} {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			lns.close()
			return nil, fmt.Errorf("listen %s on %s: %w", l.name, l.addr, err)
		}
		*l.dst = ln
	}
	return &lns, nil
}

// close closes whatever listener the servers did not take over (closing a
// closed listener is harmless).
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.resp, l.raft, l.http} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// liveNode is the node as the HTTP side sees it: not ready until it exists,
// so /healthz answers while the shards are still opening.
type liveNode struct {
	node atomic.Pointer[cluster.Node]
}

// Members lists the gossip pool for /status; nil without membership.
func (l *liveNode) Members() []cluster.Member {
	if n := l.node.Load(); n != nil {
		return n.Members()
	}
	return nil
}

// Forget drains node id out of the cluster (POST /nodes/{id}/forget).
func (l *liveNode) Forget(ctx context.Context, id string) error {
	n := l.node.Load()
	if n == nil {
		return cluster.ErrNotFormed
	}
	return n.Forget(ctx, id)
}

func (l *liveNode) Ready() bool {
	n := l.node.Load()
	return n != nil && n.Ready()
}

func (l *liveNode) Status() cluster.NodeStatus {
	if n := l.node.Load(); n != nil {
		return n.Status()
	}
	return cluster.NodeStatus{}
}

func startHTTP(ln net.Listener, node api.Node, logger *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           api.NewServer(node, logger.With("component", "api")),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	return srv
}

func stopHTTP(srv *http.Server, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
}

func startNode(cfg Config, lns *listeners, logger *slog.Logger) (*cluster.Node, error) {
	node, err := cluster.OpenNode(cluster.NodeConfig{
		NodeID: cfg.NodeID, DataDir: cfg.DataDir, Shards: cfg.Shards, Replicas: cfg.Replicas,
		RaftListener: lns.raft, RaftAdvertise: cfg.RaftAdvertise,
		RESPAddr: cfg.Advertise, HTTPAddr: withPort(cfg.HTTPAddr, lns.http),
		GossipAddr: cfg.GossipAddr, GossipAdvertise: cfg.GossipAdvertise, Join: cfg.Join,
		BootstrapExpect: cfg.BootstrapExpect, DeadNodeTimeout: cfg.DeadNodeTimeout,
		SnapshotThreshold: cfg.SnapshotThreshold, SnapshotInterval: cfg.SnapshotInterval, TrailingLogs: cfg.TrailingLogs,
		HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout, LeaderLeaseTimeout: cfg.LeaderLeaseTimeout,
		LogStore: cfg.LogStore, Logger: logger,
		Dial: cfg.Hooks.Dial, GossipTransport: cfg.Hooks.GossipTransport, TuneGossip: cfg.Hooks.TuneGossip,
		OpenLogStore: cfg.Hooks.OpenLogStore, Clock: cfg.Hooks.Clock,
	})
	if err != nil {
		return nil, err // it names the node
	}
	return node, nil
}

// waitReady waits until the cluster is formed and every shard has a
// leader. A lone node has leaderTimeout to replay its logs; a node of a
// multi-node cluster waits for its peers as long as it takes, saying so
// every waitLogEvery.
func waitReady(ctx context.Context, cfg Config, node *cluster.Node, logger *slog.Logger) error {
	logger.Info("waiting for the cluster", "bootstrap_expect", cfg.BootstrapExpect, "join", cfg.Join)
	if len(cfg.Join) == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, leaderTimeout)
		defer cancel()
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, waitLogEvery)
		err := node.WaitReady(wctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("wait for the cluster: %w", ctx.Err())
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		st := node.Status()
		logger.Info("still waiting for the cluster", "formed", st.Formed, "members", len(node.Members()), "meta_leader", st.MetaLeader)
	}
}

func closeNode(node *cluster.Node, logger *slog.Logger) {
	if err := node.Close(); err != nil {
		logger.Error("close node", "err", err)
	}
}

// startRESP serves clients on ln as a Redis Cluster node: CLUSTER SLOTS and
// friends report --advertise and, as the cluster bus port, the Raft port
// (busPort), which carries the node-to-node traffic.
func startRESP(cfg Config, ln net.Listener, busPort int, node *cluster.Node, logger *slog.Logger, done chan<- error) *resp.Server {
	srv := resp.NewServer(resp.Config{
		MaxBulkBytes: cfg.MaxBulkBytes, MaxClients: cfg.MaxClients, Port: listenPort(ln),
		RunID: runID(), NodeID: cfg.NodeID, ServerVersion: Version,
		ClusterEnabled: true, AdvertiseAddr: cfg.Advertise, BusPort: busPort, Proxy: cfg.Proxy,
	}, backend{node: node}, logger)
	go func() {
		done <- srv.Serve(ln)
		close(done) // later receivers do not wait
	}()
	return srv
}

// listenPort is ln's TCP port, 0 if it has none.
func listenPort(ln net.Listener) int {
	port := 0
	if _, p, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		port, _ = strconv.Atoi(p)
	}
	return port
}

// stopRESP lets in-flight commands finish and be answered.
func stopRESP(srv *resp.Server, done <-chan error, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("resp shutdown", "err", err)
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// withPort is addr with the port ln actually listens on (addr may ask for
// port 0).
func withPort(addr string, ln net.Listener) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(host, strconv.Itoa(listenPort(ln)))
}

// runID is 40 random hex characters, as Redis's run_id.
func runID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Kill stops the node as a crash would look to the others: clients are
// dropped at once, the gossip pool is not left, nothing is handed over and
// what is on disk is what Raft fsynced. For tests of failures.
func (s *Server) Kill() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rs := s.stopping(); rs != nil {
		_ = rs.Shutdown(ctx) // drop the clients at once
	}
	if s.http != nil {
		_ = s.http.Close()
	}
	var err error
	if s.node != nil {
		err = s.node.Kill()
	}
	s.lns.close()
	return err
}

// Node is the cluster node this server runs.
func (s *Server) Node() *cluster.Node { return s.node }

// Done receives the RESP server's error if it stops on its own.
func (s *Server) Done() <-chan error { return s.respDone }

// RESPAddr is the address the RESP listener is bound to.
func (s *Server) RESPAddr() string { return s.lns.resp.Addr().String() }

// HTTPAddr is the address the HTTP listener is bound to.
func (s *Server) HTTPAddr() string { return s.lns.http.Addr().String() }
