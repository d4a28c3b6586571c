package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/fsm"
)

// envPrefix prefixes the environment variable that can set each flag:
// --snapshot-threshold is also STREAMRAFT_SNAPSHOT_THRESHOLD.
const envPrefix = "STREAMRAFT_"

// minSnapshotInterval is hashicorp/raft's lower bound for SnapshotInterval.
const minSnapshotInterval = 5 * time.Millisecond

// Config is everything the binary is told from outside.
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
}

// defaultShards is --shards's default: the 16384 slots in 16 Raft groups,
// so a command's keys must share a hash slot as on Redis Cluster.
const defaultShards = 16

const usageHeader = `Usage: streamraft [flags]
       streamraft check [--data-dir DIR]   verify a data dir offline (check -h)

streamraft is a Redis-compatible stream broker whose writes go through a Raft log.
With no flags it is a one-node server on 127.0.0.1:6379 with its data in ./data.

Every flag can also be set from the environment as STREAMRAFT_<FLAG>, upper case
with dashes as underscores (--data-dir is STREAMRAFT_DATA_DIR). A flag given on
the command line wins over the environment, which wins over the default.

Flags:
`

// parseConfig reads flags from args over the environment (through getenv)
// over the defaults. It returns flag.ErrHelp for -h.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "streamraft"
	}
	var c Config
	fs := flag.NewFlagSet("streamraft", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.NodeID, "node-id", host, "this node's ID in the cluster, the host name by default")
	fs.StringVar(&c.DataDir, "data-dir", "./data", "directory for the Raft logs and snapshots")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:6379", "RESP listen address")
	fs.StringVar(&c.Advertise, "advertise", "", "RESP address clients reach this node at (default: --addr)")
	fs.StringVar(&c.RaftAddr, "raft-addr", "127.0.0.1:7379", "Raft listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8379", "HTTP address for /healthz, /readyz and /status")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Int64Var(&c.MaxBulkBytes, "max-bulk-bytes", 512<<20, "largest bulk string a client may send, in bytes")
	fs.IntVar(&c.MaxClients, "max-clients", 10000, "most client connections served at once")
	fs.IntVar(&c.Shards, "shards", defaultShards, fmt.Sprintf("Raft shards the %d hash slots are split into (1-%d); fixed when the data dir is created", fsm.SlotCount, cluster.MaxShards))
	fs.Uint64Var(&c.SnapshotThreshold, "snapshot-threshold", 8192, "log entries since the last snapshot that trigger a new one")
	fs.DurationVar(&c.SnapshotInterval, "snapshot-interval", 2*time.Minute, "how often to check whether a snapshot is due")
	fs.StringVar(&c.GossipAddr, "gossip-addr", "127.0.0.1:7946", "memberlist (node discovery) address, UDP and TCP; opened only with --join")
	var join string
	fs.StringVar(&join, "join", "", "comma-separated host:port gossip addresses of nodes to join (DNS names allowed; may include this node's own)")
	fs.StringVar(&c.GossipAdvertise, "gossip-advertise", "", "gossip address the other nodes reach this node at (default: --gossip-addr)")
	fs.StringVar(&c.RaftAdvertise, "raft-advertise", "", "Raft address the other nodes reach this node at (default: --raft-addr)")
	fs.IntVar(&c.BootstrapExpect, "bootstrap-expect", 1, "nodes that must see each other (through --join) before the cluster forms; 1: a lone node forms it at once")
	fs.IntVar(&c.Replicas, "replicas", 3, "Raft voters per shard, capped by the number of nodes (used when the cluster forms)")
	fs.DurationVar(&c.DeadNodeTimeout, "dead-node-timeout", cluster.DefaultDeadNodeTimeout, "how long a node may be unreachable before its replicas are moved to other nodes")
	fs.StringVar(&c.LogStore, "log-store", cluster.LogStoreBolt, "the shards' Raft log store: bolt (raft-boltdb) or wal (hashicorp/raft-wal); fixed when a shard's data is created")
	fs.BoolVar(&c.Proxy, "proxy", false, "forward commands for shards led by another node to it instead of answering -MOVED (for clients without cluster support)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}
	var envErrs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	if err := errors.Join(envErrs...); err != nil {
		return Config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Advertise == "" {
		c.Advertise = c.Addr
	}
	c.Join = splitList(join)
	return c, nil
}

// splitList splits a comma-separated list, trimming spaces; an empty
// string is an empty list.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// envName is the environment variable for a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
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
