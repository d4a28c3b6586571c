package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/cluster/embed"
	"github.com/streamraft/streamraft/fsm"
)

// envPrefix prefixes the environment variable that can set each flag:
// --snapshot-threshold is also STREAMRAFT_SNAPSHOT_THRESHOLD.
const envPrefix = "STREAMRAFT_"

// defaultShards is --shards's default: the 16384 slots in 16 Raft groups,
// so a command's keys must share a hash slot as on Redis Cluster.
const defaultShards = 16

// Raft's timeouts, lower than hashicorp/raft's defaults (1 s, 1 s,
// 500 ms): a follower campaigns 300-600 ms after its last contact, so a
// shard whose leader died leads again in under a second at the median
// (README, Correctness: failover).
const (
	defaultHeartbeat = 300 * time.Millisecond
	defaultElection  = 300 * time.Millisecond
	defaultLease     = 150 * time.Millisecond
)

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
func parseConfig(args []string, getenv func(string) string, out io.Writer) (embed.Config, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "streamraft"
	}
	var c embed.Config
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
	fs.Uint64Var(&c.TrailingLogs, "raft-trailing-logs", 10240, "log entries a snapshot leaves behind, so a lagging replica catches up from the log")
	fs.DurationVar(&c.HeartbeatTimeout, "raft-heartbeat-timeout", defaultHeartbeat, "a follower that heard nothing from its leader for this long (up to twice it) starts an election")
	fs.DurationVar(&c.ElectionTimeout, "raft-election-timeout", defaultElection, "how long a candidate waits for votes before it tries again")
	fs.DurationVar(&c.LeaderLeaseTimeout, "raft-leader-lease-timeout", defaultLease, "a leader that reached no quorum for this long steps down (at most --raft-heartbeat-timeout)")
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
		return embed.Config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return embed.Config{}, err
	}
	if fs.NArg() > 0 {
		return embed.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
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
