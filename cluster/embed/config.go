package embed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/streamraft/streamraft/cluster"
)

// minSnapshotInterval is hashicorp/raft's lower bound for SnapshotInterval,
// and minRaftTimeout its lower bound for the heartbeat, election and lease
// timeouts.
const (
	minSnapshotInterval = 5 * time.Millisecond
	minRaftTimeout      = 5 * time.Millisecond
)

// Config is everything a node is told from outside: the binary fills it
// from its flags and environment (cmd/streamraft), tests fill it directly.
// Validate's messages name the flags.
type Config struct {
	NodeID            string
	DataDir           string
	Addr              string // RESP listen address
	Advertise         string // RESP address clients are sent to
	RaftAddr          string
	HTTPAddr          string
	LogLevel          string
	MaxBulkBytes      int64
	MaxClients        int
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many log entries a snapshot leaves behind, so a
	// lagging follower catches up from the log instead of a snapshot.
	TrailingLogs uint64
	// Raft's timeouts: a follower that heard nothing from its leader for
	// HeartbeatTimeout (randomized up to twice that) campaigns; a leader
	// that reached no quorum for LeaderLeaseTimeout steps down.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	// Shards is how many Raft shards the 16384 slots are split into; fixed
	// when the data dir is first used.
	Shards int
	// GossipAddr is the memberlist (discovery) address, UDP and TCP.
	GossipAddr string
	// Join is the seed list (host:port each) membership joins through;
	// empty: no gossip port is opened.
	Join []string
	// GossipAdvertise is the gossip address the others reach this node at
	// (default: --gossip-addr).
	GossipAdvertise string
	// RaftAdvertise is the Raft address the others reach this node at
	// (default: --raft-addr).
	RaftAdvertise string
	// BootstrapExpect is how many nodes must see each other before the
	// cluster forms (with --join); 1 forms a one-node cluster at once.
	BootstrapExpect int
	// Replicas is the number of voters per shard (capped by the nodes).
	Replicas int
	// DeadNodeTimeout is how long a node may be unreachable before its
	// replicas move to other nodes.
	DeadNodeTimeout time.Duration
	// Proxy forwards commands for shards led elsewhere instead of MOVED.
	Proxy bool
	// LogStore is the shards' Raft log store: bolt or wal.
	LogStore string

	// Hooks are for tests: the zero value is what the binary runs.
	Hooks Hooks
}

// Hooks let a test put faults between a node and the world it runs in. The
// zero value is production: plain TCP, memberlist's own transport, the
// configured log store, the wall clock.
type Hooks struct {
	// Dial, when set, opens the node's outgoing connections to other
	// nodes (Raft and RPC traffic on the Raft port).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// GossipTransport, when set, wraps the memberlist transport gossip
	// runs over.
	GossipTransport func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
	// TuneGossip, when set, adjusts memberlist's configuration.
	TuneGossip func(*memberlist.Config)
	// OpenLogStore, when set, opens every Raft group's log and stable
	// store instead of raft-boltdb or raft-wal (dir is the group's
	// directory).
	OpenLogStore func(dir string) (cluster.LogStore, error)
	// Clock, when set, is the wall clock that stamps log entries.
	Clock func() time.Time
}

// Validate checks the configuration as a whole; each problem is reported.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.NodeID == "" || strings.ContainsAny(c.NodeID, " \t\r\n") {
		bad("--node-id %q: must be non-empty without spaces", c.NodeID)
	}
	if c.DataDir == "" {
		bad("--data-dir: must not be empty")
	}
	ports := map[string]string{}
	for _, a := range []struct{ flag, addr string }{
		{"--addr", c.Addr}, {"--raft-addr", c.RaftAddr}, {"--http-addr", c.HTTPAddr}, {"--gossip-addr", c.GossipAddr},
	} {
		port, err := checkHostPort(a.addr)
		if err != nil {
			bad("%s %q: %w", a.flag, a.addr, err)
			continue
		}
		if other, dup := ports[port]; dup && port != "0" {
			bad("%s %q: port %s is also %s", a.flag, a.addr, port, other)
		}
		ports[port] = a.flag
	}
	if err := checkAdvertise(c.Advertise); err != nil {
		bad("--advertise %q: %w", c.Advertise, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.MaxBulkBytes < 1 {
		bad("--max-bulk-bytes %d: must be at least 1", c.MaxBulkBytes)
	}
	if c.MaxClients < 1 {
		bad("--max-clients %d: must be at least 1", c.MaxClients)
	}
	if c.Shards < 1 || c.Shards > cluster.MaxShards {
		bad("--shards %d: want 1-%d", c.Shards, cluster.MaxShards)
	}
	if c.SnapshotThreshold < 1 {
		bad("--snapshot-threshold %d: must be at least 1", c.SnapshotThreshold)
	}
	if c.SnapshotInterval < minSnapshotInterval {
		bad("--snapshot-interval %v: must be at least %v", c.SnapshotInterval, minSnapshotInterval)
	}
	if c.TrailingLogs < 1 {
		bad("--raft-trailing-logs %d: must be at least 1", c.TrailingLogs)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--raft-heartbeat-timeout", c.HeartbeatTimeout}, {"--raft-election-timeout", c.ElectionTimeout}, {"--raft-leader-lease-timeout", c.LeaderLeaseTimeout}} {
		if d.v < minRaftTimeout {
			bad("%s %v: must be at least %v", d.flag, d.v, minRaftTimeout)
		}
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		bad("--raft-leader-lease-timeout %v: must not exceed --raft-heartbeat-timeout %v", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	for _, j := range c.Join {
		if err := checkSeed(j); err != nil {
			bad("--join entry %q: %w", j, err)
		}
	}
	switch {
	case c.BootstrapExpect < 1:
		bad("--bootstrap-expect %d: must be at least 1", c.BootstrapExpect)
	case c.BootstrapExpect > 1 && len(c.Join) == 0:
		bad("--bootstrap-expect %d: needs --join, so the nodes can find each other", c.BootstrapExpect)
	}
	if c.LogStore != cluster.LogStoreBolt && c.LogStore != cluster.LogStoreWAL {
		bad("--log-store %q: want %s or %s", c.LogStore, cluster.LogStoreBolt, cluster.LogStoreWAL)
	}
	if c.Replicas < 1 {
		bad("--replicas %d: must be at least 1", c.Replicas)
	}
	if c.DeadNodeTimeout <= 0 {
		bad("--dead-node-timeout %v: must be positive", c.DeadNodeTimeout)
	}
	for _, a := range []struct{ flag, addr string }{{"--raft-advertise", c.RaftAdvertise}, {"--gossip-advertise", c.GossipAdvertise}} {
		if a.addr == "" {
			continue
		}
		if err := checkSeed(a.addr); err != nil {
			bad("%s %q: %w", a.flag, a.addr, err)
		}
	}
	return errors.Join(errs...)
}

// checkSeed wants a host:port a node can dial: a non-empty host and a
// non-zero port.
func checkSeed(addr string) error {
	port, err := checkHostPort(addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(addr); host == "" {
		return errors.New("want a host")
	}
	if port == "0" {
		return errors.New("want a non-zero port")
	}
	return nil
}

// checkHostPort accepts host:port with a numeric port and returns the port.
func checkHostPort(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("want host:port: %w", err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return "", fmt.Errorf("port %q: want 0-65535", port)
	}
	return port, nil
}

// checkAdvertise wants an address clients can dial: a host that is not the
// wildcard and a non-zero port.
func checkAdvertise(addr string) error {
	port, err := checkHostPort(addr)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return errors.New("want a host clients can dial, not a wildcard (set --advertise)")
	}
	if port == "0" {
		return errors.New("want a fixed port (set --advertise)")
	}
	return nil
}
