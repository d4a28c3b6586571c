package main

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := parseConfig(args, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseConfig(%q): %v", args, err)
	}
	return cfg
}

func TestValidate(t *testing.T) {
	cases := []struct {
		args []string
		want string // substring of the error; "" for valid
	}{
		{nil, ""},
		{[]string{"--workload", "e2e", "--rate", "1000", "--keys", "4", "--clients", "4"}, ""},
		{[]string{"--compare", "--nodes", "1"}, ""},
		{[]string{"--label", "a", "--addr", "h:1", "--label", "b", "--addr", "h:2,h:3"}, ""},
		{[]string{"--workload", "lpush"}, "--workload"},
		{[]string{"--resp", "4"}, "--resp 4"},
		{[]string{"--clients", "0"}, "--clients 0"},
		{[]string{"--pipeline", "0"}, "--pipeline 0"},
		{[]string{"--workload", "e2e", "--value-size", "10"}, "send time"},
		{[]string{"--workload", "group", "--keys", "8", "--clients", "4"}, "every key needs a consumer"},
		{[]string{"--block-ms", "0"}, "block forever"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--rate", "-1"}, "--rate"},
		{[]string{"--compare", "--nodes", "0"}, "--nodes 0"},
		{[]string{"--label", "a", "--label", "b", "--addr", "h:1"}, "one --addr per --label"},
	}
	for _, c := range cases {
		err := mustParse(t, c.args...).Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Validate(%q) = %v; want nil", c.args, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Validate(%q) = %v; want an error containing %q", c.args, err, c.want)
		}
	}
}

func TestTargets(t *testing.T) {
	seeds := mustParse(t, "--addr", "h:1,h:2", "--addr", "h:3").targets()
	if len(seeds) != 1 || !slices.Equal(seeds[0].Addrs, []string{"h:1", "h:2", "h:3"}) || seeds[0].Label != "h:1,h:2,h:3" {
		t.Errorf("targets = %+v; want one target with seeds h:1 h:2 h:3", seeds)
	}
	two := mustParse(t, "--label", "redis", "--addr", "h:1", "--label", "sr", "--addr", "h:2,h:3").targets()
	want := []Target{{Label: "redis", Addrs: []string{"h:1"}}, {Label: "sr", Addrs: []string{"h:2", "h:3"}}}
	if len(two) != 2 || two[0].Label != want[0].Label || !slices.Equal(two[1].Addrs, want[1].Addrs) {
		t.Errorf("targets = %+v; want %+v", two, want)
	}
}

func TestDurationAndRequests(t *testing.T) {
	cases := []struct {
		args        []string
		timeLimited bool
	}{
		{nil, true},
		{[]string{"--requests", "100"}, false},
		{[]string{"--requests", "100", "--duration", "5s"}, true},
	}
	for _, c := range cases {
		if got := mustParse(t, c.args...).timeLimited(); got != c.timeLimited {
			t.Errorf("timeLimited(%q) = %v; want %v", c.args, got, c.timeLimited)
		}
	}
	if d := mustParse(t).duration; d != 10*time.Second {
		t.Errorf("default --duration = %s; want 10s", d)
	}
}

func TestClusterFlag(t *testing.T) {
	cases := map[string]clusterMode{"": clusterAuto, "--cluster": clusterOn, "--cluster=false": clusterOff, "--cluster=auto": clusterAuto}
	for arg, want := range cases {
		var args []string
		if arg != "" {
			args = []string{arg}
		}
		if got := mustParse(t, args...).cluster; got != want {
			t.Errorf("%q: cluster = %v; want %v", arg, got.String(), want.String())
		}
	}
}

func TestHelpDescribesWorkloads(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseConfig(-h) = %v; want flag.ErrHelp", err)
	}
	for _, s := range []string{"--compare", "xadd", "group", "e2e", "mixed", "-pipeline", "-streamraft-bin", "-plot"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("help lacks %q:\n%s", s, out.String())
		}
	}
}
