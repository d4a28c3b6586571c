package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamraft/streamraft/cluster/embed"
)

func TestParseConfigPrecedence(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(embed.Config) bool
		desc string
	}{
		{"defaults", nil, nil, func(c embed.Config) bool {
			return c.Addr == "127.0.0.1:6379" && c.Advertise == c.Addr && c.DataDir == "./data" &&
				c.RaftAddr == "127.0.0.1:7379" && c.HTTPAddr == "127.0.0.1:8379" && c.SnapshotThreshold == 8192 &&
				c.SnapshotInterval == 2*time.Minute && c.MaxBulkBytes == 512<<20 && c.MaxClients == 10000 && c.NodeID != "" &&
				c.Shards == 16 && c.GossipAddr == "127.0.0.1:7946" && c.Join == nil && c.BootstrapExpect == 1
		}, "the documented defaults"},
		{"join from flag", []string{"--join", " a:1, b.example:2 ,[::1]:3"}, nil, func(c embed.Config) bool {
			return slices.Equal(c.Join, []string{"a:1", "b.example:2", "[::1]:3"})
		}, "Join [a:1 b.example:2 [::1]:3]"},
		{"gossip flags from env", nil, map[string]string{"STREAMRAFT_JOIN": "s-0:7946,s-1:7946",
			"STREAMRAFT_GOSSIP_ADDR": "0.0.0.0:7000", "STREAMRAFT_BOOTSTRAP_EXPECT": "3"}, func(c embed.Config) bool {
			return slices.Equal(c.Join, []string{"s-0:7946", "s-1:7946"}) && c.GossipAddr == "0.0.0.0:7000" && c.BootstrapExpect == 3
		}, "Join [s-0:7946 s-1:7946], GossipAddr 0.0.0.0:7000, BootstrapExpect 3"},
		{"env over default", nil, map[string]string{"STREAMRAFT_DATA_DIR": "/env", "STREAMRAFT_SNAPSHOT_INTERVAL": "5s"},
			func(c embed.Config) bool { return c.DataDir == "/env" && c.SnapshotInterval == 5*time.Second }, "DataDir /env, interval 5s"},
		{"shards from env and flag", []string{"--shards", "4"}, map[string]string{"STREAMRAFT_SHARDS": "8"},
			func(c embed.Config) bool { return c.Shards == 4 }, "Shards 4"},
		{"shards from env", nil, map[string]string{"STREAMRAFT_SHARDS": "8"},
			func(c embed.Config) bool { return c.Shards == 8 }, "Shards 8"},
		{"flag over env", []string{"--data-dir", "/flag"}, map[string]string{"STREAMRAFT_DATA_DIR": "/env"},
			func(c embed.Config) bool { return c.DataDir == "/flag" }, "DataDir /flag"},
		{"advertise follows addr", []string{"--addr", "127.0.0.1:7000"}, nil,
			func(c embed.Config) bool { return c.Advertise == "127.0.0.1:7000" }, "Advertise 127.0.0.1:7000"},
		{"advertise from env", []string{"--addr", "0.0.0.0:7000"}, map[string]string{"STREAMRAFT_ADVERTISE": "h:7000"},
			func(c embed.Config) bool { return c.Advertise == "h:7000" && c.Addr == "0.0.0.0:7000" }, "Advertise h:7000"},
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
