// Command streamraft runs a Redis-compatible stream broker whose writes go
// through a Raft log. Run with no flags it is a one-node server on
// 127.0.0.1:6379 with its data in ./data; see -h for the flags.
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
	"sync"
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
	version         = "0.1.0"
)

func main() {
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

	lns, err := startListeners(cfg)
	if err != nil {
		return err
	}
	defer lns.close()
	var live liveNode
	httpSrv := startHTTP(lns.http, &live, logger)
	var httpOnce sync.Once
	stopHTTPOnce := func() { httpOnce.Do(func() { stopHTTP(httpSrv, logger) }) }
	defer stopHTTPOnce()

	node, err := startNode(cfg, lns.raft, logger)
	if err != nil {
		return err
	}
	defer closeNode(node, logger)
	defer stopHTTPOnce() // shutdown order: RESP, then HTTP, then the node
	live.node.Store(node)
	if err := waitLeader(ctx, node, logger); err != nil {
		if ctx.Err() != nil {
			logger.Info("signal received during start-up; shutting down")
			return nil
		}
		return err
	}
	respSrv, respDone := startRESP(cfg, lns.resp, listenPort(lns.raft), node, logger)
	defer stopRESP(respSrv, respDone, logger)
	if len(cfg.Join) > 0 {
		stopGossip, err := startGossip(ctx, cfg, lns, &live, logger)
		if err != nil {
			return err
		}
		defer stopGossip() // first step of the shutdown: tell the others
	}

	logger.Info("ready", "node_id", cfg.NodeID, "addr", lns.resp.Addr().String(), "advertise", cfg.Advertise,
		"raft_addr", lns.raft.Addr().String(), "http_addr", lns.http.Addr().String(), "data_dir", cfg.DataDir,
		"shards", node.Shards())
	select {
	case <-ctx.Done():
		logger.Info("signal received; shutting down")
		return nil
	case err := <-respDone:
		return fmt.Errorf("resp server stopped: %w", err)
	}
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
	node    atomic.Pointer[cluster.Node]
	members atomic.Pointer[cluster.Membership] // nil unless --join
}

// Members lists the gossip pool for /status; nil without membership.
func (l *liveNode) Members() []cluster.Member {
	if m := l.members.Load(); m != nil {
		return m.Members()
	}
	return nil
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

func startNode(cfg Config, raftLn net.Listener, logger *slog.Logger) (*cluster.Node, error) {
	node, err := cluster.OpenNode(cluster.NodeConfig{
		NodeID: cfg.NodeID, DataDir: cfg.DataDir, Shards: cfg.Shards, RaftListener: raftLn,
		SnapshotThreshold: cfg.SnapshotThreshold, SnapshotInterval: cfg.SnapshotInterval,
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("open node: %w", err)
	}
	return node, nil
}

func waitLeader(ctx context.Context, node *cluster.Node, logger *slog.Logger) error {
	logger.Info("waiting for leadership", "shards", node.Shards())
	ctx, cancel := context.WithTimeout(ctx, leaderTimeout)
	defer cancel()
	if err := node.WaitReady(ctx); err != nil {
		return fmt.Errorf("wait for leadership: %w", err)
	}
	return nil
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
		ClusterEnabled: true, AdvertiseAddr: cfg.Advertise, BusPort: busPort,
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

// startGossip starts membership (discovery only: it changes no Raft group)
// and joins the --join seeds in the background, retrying until one answers.
// The returned function leaves the pool and closes the gossip port.
func startGossip(ctx context.Context, cfg Config, lns *listeners, live *liveNode, logger *slog.Logger) (func(), error) {
	logger = logger.With("component", "membership")
	ms, err := cluster.StartMembership(ctx, cluster.MembershipConfig{
		NodeID: cfg.NodeID, BindAddr: cfg.GossipAddr, RESPAddr: cfg.Advertise,
		RaftAddr: withPort(cfg.RaftAddr, lns.raft), HTTPAddr: withPort(cfg.HTTPAddr, lns.http),
		OnEvent: func(ev cluster.MemberEvent) {
			logger.Info("member "+ev.Kind.String(), "member", ev.Member.ID, "gossip_addr", ev.Member.GossipAddr,
				"resp_addr", ev.Member.RESPAddr, "raft_addr", ev.Member.RaftAddr, "members", memberIDs(live.Members()))
		},
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("start membership: %w", err)
	}
	live.members.Store(ms)
	logger.Info("gossip started", "gossip_addr", ms.GossipAddr(), "join", cfg.Join)
	joinCtx, cancel := context.WithCancel(ctx)
	joined := make(chan struct{})
	go func() {
		defer close(joined)
		if err := ms.Join(joinCtx, cfg.Join); err != nil {
			if joinCtx.Err() == nil {
				logger.Error("join", "err", err)
			}
			return
		}
		logger.Info("members", "members", memberIDs(ms.Members()))
	}()
	return func() {
		cancel()
		<-joined
		if err := ms.Leave(shutdownTimeout); err != nil {
			logger.Warn("leave", "err", err)
		}
		if err := ms.Shutdown(); err != nil {
			logger.Warn("shutdown", "err", err)
		}
	}, nil
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

func memberIDs(ms []cluster.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// runID is 40 random hex characters, as Redis's run_id.
func runID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
