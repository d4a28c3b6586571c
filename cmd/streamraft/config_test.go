package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		NodeID: "n1", DataDir: "./data", Addr: "127.0.0.1:6379", Advertise: "127.0.0.1:6379",
		RaftAddr: "127.0.0.1:7379", HTTPAddr: "127.0.0.1:8379", LogLevel: "info",
		MaxBulkBytes: 512 << 20, MaxClients: 10000, SnapshotThreshold: 8192, SnapshotInterval: 2 * time.Minute,
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

func TestParseConfigPrecedence(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(Config) bool
		desc string
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return c.Addr == "127.0.0.1:6379" && c.Advertise == c.Addr && c.DataDir == "./data" &&
				c.RaftAddr == "127.0.0.1:7379" && c.HTTPAddr == "127.0.0.1:8379" && c.SnapshotThreshold == 8192 &&
				c.SnapshotInterval == 2*time.Minute && c.MaxBulkBytes == 512<<20 && c.MaxClients == 10000 && c.NodeID != "" &&
				c.Shards == 16 && c.GossipAddr == "127.0.0.1:7946" && c.Join == nil && c.BootstrapExpect == 1
		}, "the documented defaults"},
		{"join from flag", []string{"--join", " a:1, b.example:2 ,[::1]:3"}, nil, func(c Config) bool {
			return slices.Equal(c.Join, []string{"a:1", "b.example:2", "[::1]:3"})
		}, "Join [a:1 b.example:2 [::1]:3]"},
		{"gossip flags from env", nil, map[string]string{"STREAMRAFT_JOIN": "s-0:7946,s-1:7946",
			"STREAMRAFT_GOSSIP_ADDR": "0.0.0.0:7000", "STREAMRAFT_BOOTSTRAP_EXPECT": "3"}, func(c Config) bool {
			return slices.Equal(c.Join, []string{"s-0:7946", "s-1:7946"}) && c.GossipAddr == "0.0.0.0:7000" && c.BootstrapExpect == 3
		}, "Join [s-0:7946 s-1:7946], GossipAddr 0.0.0.0:7000, BootstrapExpect 3"},
		{"env over default", nil, map[string]string{"STREAMRAFT_DATA_DIR": "/env", "STREAMRAFT_SNAPSHOT_INTERVAL": "5s"},
			func(c Config) bool { return c.DataDir == "/env" && c.SnapshotInterval == 5*time.Second }, "DataDir /env, interval 5s"},
		{"shards from env and flag", []string{"--shards", "4"}, map[string]string{"STREAMRAFT_SHARDS": "8"},
			func(c Config) bool { return c.Shards == 4 }, "Shards 4"},
		{"shards from env", nil, map[string]string{"STREAMRAFT_SHARDS": "8"},
			func(c Config) bool { return c.Shards == 8 }, "Shards 8"},
		{"flag over env", []string{"--data-dir", "/flag"}, map[string]string{"STREAMRAFT_DATA_DIR": "/env"},
			func(c Config) bool { return c.DataDir == "/flag" }, "DataDir /flag"},
		{"advertise follows addr", []string{"--addr", "127.0.0.1:7000"}, nil,
			func(c Config) bool { return c.Advertise == "127.0.0.1:7000" }, "Advertise 127.0.0.1:7000"},
		{"advertise from env", []string{"--addr", "0.0.0.0:7000"}, map[string]string{"STREAMRAFT_ADVERTISE": "h:7000"},
			func(c Config) bool { return c.Advertise == "h:7000" && c.Addr == "0.0.0.0:7000" }, "Advertise h:7000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if !tc.want(c) {
				t.Errorf("parseConfig(%q, %v) = %+v; want %s", tc.args, tc.env, c, tc.desc)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"bad env value", nil, map[string]string{"STREAMRAFT_MAX_CLIENTS": "many"}, "STREAMRAFT_MAX_CLIENTS"},
		{"unknown flag", []string{"--nope"}, nil, "nope"},
		{"stray argument", []string{"extra"}, nil, "extra"},
		{"shards not a number", []string{"--shards", "many"}, nil, "shards"},
		{"bootstrap-expect not a number", []string{"--bootstrap-expect", "three"}, nil, "bootstrap-expect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseConfig(%q, %v) = %v; want an error mentioning %q", tc.args, tc.env, err, tc.wantErr)
			}
		})
	}
	var out strings.Builder
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseConfig(-h) = %v; want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), "STREAMRAFT_") || !strings.Contains(out.String(), "wins over") {
		t.Errorf("usage text %q does not explain the environment and precedence", out.String())
	}
}
