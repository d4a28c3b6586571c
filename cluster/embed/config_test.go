package embed

import (
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		NodeID: "n1", DataDir: "./data", Addr: "127.0.0.1:6379", Advertise: "127.0.0.1:6379",
		RaftAddr: "127.0.0.1:7379", HTTPAddr: "127.0.0.1:8379", LogLevel: "info",
		MaxBulkBytes: 512 << 20, MaxClients: 10000, SnapshotThreshold: 8192, SnapshotInterval: 2 * time.Minute, TrailingLogs: 10240,
		HeartbeatTimeout: time.Second, ElectionTimeout: time.Second, LeaderLeaseTimeout: 500 * time.Millisecond,
		Shards: 16, GossipAddr: "127.0.0.1:7946", BootstrapExpect: 1, Replicas: 3, DeadNodeTimeout: 10 * time.Minute, LogStore: "bolt",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"wildcard listen with advertise", func(c *Config) { c.Addr = "0.0.0.0:6379"; c.Advertise = "10.0.0.5:6379" }, ""},
		{"ipv6", func(c *Config) { c.Addr = "[::1]:6379"; c.Advertise = "[::1]:6379" }, ""},
		{"empty node id", func(c *Config) { c.NodeID = "" }, "--node-id"},
		{"node id with space", func(c *Config) { c.NodeID = "a b" }, "--node-id"},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "--data-dir"},
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, "--addr"},
		{"raft port not a number", func(c *Config) { c.RaftAddr = "127.0.0.1:raft" }, "--raft-addr"},
		{"http port too big", func(c *Config) { c.HTTPAddr = "127.0.0.1:70000" }, "--http-addr"},
		{"same port twice", func(c *Config) { c.HTTPAddr = "127.0.0.1:7379" }, "port 7379"},
		{"wildcard advertise", func(c *Config) { c.Addr = "0.0.0.0:6379"; c.Advertise = "0.0.0.0:6379" }, "--advertise"},
		{"advertise port 0", func(c *Config) { c.Advertise = "127.0.0.1:0" }, "--advertise"},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, "--log-level"},
		{"max bulk bytes", func(c *Config) { c.MaxBulkBytes = 0 }, "--max-bulk-bytes"},
		{"max clients", func(c *Config) { c.MaxClients = 0 }, "--max-clients"},
		{"snapshot threshold", func(c *Config) { c.SnapshotThreshold = 0 }, "--snapshot-threshold"},
		{"snapshot interval", func(c *Config) { c.SnapshotInterval = time.Millisecond }, "--snapshot-interval"},
		{"trailing logs", func(c *Config) { c.TrailingLogs = 0 }, "--raft-trailing-logs 0"},
		{"heartbeat timeout", func(c *Config) { c.HeartbeatTimeout = time.Millisecond }, "--raft-heartbeat-timeout 1ms"},
		{"lease over heartbeat", func(c *Config) { c.LeaderLeaseTimeout = 2 * time.Second }, "--raft-leader-lease-timeout 2s: must not exceed"},
		{"16 shards", func(c *Config) { c.Shards = 16 }, ""},
		{"one shard per slot", func(c *Config) { c.Shards = 16384 }, ""},
		{"no shards", func(c *Config) { c.Shards = 0 }, "--shards 0"},
		{"negative shards", func(c *Config) { c.Shards = -4 }, "--shards -4"},
		{"more shards than slots", func(c *Config) { c.Shards = 16385 }, "--shards 16385: want 1-16384"},
		{"join list", func(c *Config) { c.Join = []string{"10.0.0.1:7946", "sr-1.sr.ns.svc:7946", "[::1]:7946"} }, ""},
		{"gossip port clash", func(c *Config) { c.GossipAddr = "0.0.0.0:6379" }, "--gossip-addr \"0.0.0.0:6379\": port 6379 is also --addr"},
		{"gossip addr without port", func(c *Config) { c.GossipAddr = "127.0.0.1" }, "--gossip-addr"},
		{"join entry without port", func(c *Config) { c.Join = []string{"10.0.0.1:7946", "sr-1"} }, `--join entry "sr-1"`},
		{"join entry without host", func(c *Config) { c.Join = []string{":7946"} }, `--join entry ":7946": want a host`},
		{"join entry port 0", func(c *Config) { c.Join = []string{"h:0"} }, `--join entry "h:0": want a non-zero port`},
		{"empty join entry", func(c *Config) { c.Join = []string{"h:1", ""} }, `--join entry ""`},
		{"bootstrap expect 0", func(c *Config) { c.BootstrapExpect = 0 }, "--bootstrap-expect 0: must be at least 1"},
		{"bootstrap expect 3 without join", func(c *Config) { c.BootstrapExpect = 3 }, "--bootstrap-expect 3: needs --join"},
		{"replicas 0", func(c *Config) { c.Replicas = 0 }, "--replicas 0: must be at least 1"},
		{"log store", func(c *Config) { c.LogStore = "rocks" }, `--log-store "rocks": want bolt or wal`},
		{"wal log store", func(c *Config) { c.LogStore = "wal" }, ""},
		{"dead node timeout 0", func(c *Config) { c.DeadNodeTimeout = 0 }, "--dead-node-timeout 0s: must be positive"},
		{"raft advertise without port", func(c *Config) { c.RaftAdvertise = "node-1" }, "--raft-advertise \"node-1\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v; want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
}
