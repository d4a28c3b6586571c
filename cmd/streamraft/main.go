// Command streamraft runs a Redis-compatible stream broker whose writes go
// through a Raft log. Run with no flags it is a one-node server on
// 127.0.0.1:6379 with its data in ./data; see -h for the flags.
// `streamraft check --data-dir DIR` verifies a data dir offline.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
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
	version      = "0.1.0"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(runCheck(os.Args[2:], os.Getenv, os.Stdout, os.Stderr)) // check.go
	}
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "streamraft:", err)
		os.Exit(1)
	}
}

// run is the start-up script; it returns when a signal has stopped the
// server, or with the first error.
func run(args []string, getenv func(string) string) error {
	cfg, err := parseConfig(args, getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := newLogger(cfg.LogLevel)
	defer logger.Info("stopped")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv, err := startServer(ctx, cfg, logger)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("signal received during start-up; shutting down")
			return nil
		}
		return err
	}
	defer srv.Close()
	select {
	case <-ctx.Done():
		logger.Info("signal received; shutting down")
		return nil
	case err := <-srv.respDone:
		return fmt.Errorf("resp server stopped: %w", err)
	}
}

// server is one running node: its listeners, HTTP side, cluster node and
// RESP server. Tests run several in one process.
type server struct {
	cfg      Config
	logger   *slog.Logger
	lns      *listeners
	http     *http.Server
	node     *cluster.Node
	resp     *resp.Server
	respDone <-chan error
}

// startServer opens the ports, serves HTTP (health answers at once), opens
// the node (joining or forming the cluster), waits until the cluster can
// serve, then serves RESP. On error everything started is stopped.
func startServer(ctx context.Context, cfg Config, logger *slog.Logger) (_ *server, err error) {
	lns, err := startListeners(cfg)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, logger: logger, lns: lns}
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
	if err := waitReady(ctx, cfg, s.node, logger); err != nil {
		return nil, err
	}
	s.resp, s.respDone = startRESP(cfg, lns.resp, listenPort(lns.raft), s.node, logger)
	logger.Info("ready", "node_id", cfg.NodeID, "addr", lns.resp.Addr().String(), "advertise", cfg.Advertise,
		"raft_addr", lns.raft.Addr().String(), "http_addr", lns.http.Addr().String(), "data_dir", cfg.DataDir,
		"shards", s.node.Shards())
	return s, nil
}

// Close shuts down in reverse order: RESP (in-flight commands are
// answered), HTTP, then the node (leaving the gossip pool, closing the Raft
// groups), then whatever listener nothing took over.
func (s *server) Close() {
	if s.resp != nil {
		stopRESP(s.resp, s.respDone, s.logger)
	}
	if s.http != nil {
		stopHTTP(s.http, s.logger)
	}
	if s.node != nil {
		closeNode(s.node, s.logger)
	}
	s.lns.close()
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // Validate checked it
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
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
		SnapshotThreshold: cfg.SnapshotThreshold, SnapshotInterval: cfg.SnapshotInterval,
		LogStore: cfg.LogStore, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("open node: %w", err)
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
func startRESP(cfg Config, ln net.Listener, busPort int, node *cluster.Node, logger *slog.Logger) (*resp.Server, <-chan error) {
	srv := resp.NewServer(resp.Config{
		MaxBulkBytes: cfg.MaxBulkBytes, MaxClients: cfg.MaxClients, Port: listenPort(ln),
		RunID: runID(), NodeID: cfg.NodeID, ServerVersion: version,
		ClusterEnabled: true, AdvertiseAddr: cfg.Advertise, BusPort: busPort, Proxy: cfg.Proxy,
	}, backend{node: node}, logger)
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(ln)
		close(done) // later receivers do not wait
	}()
	return srv, done
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
