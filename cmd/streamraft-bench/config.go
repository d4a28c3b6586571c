package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Workload names.
const (
	workloadXAdd  = "xadd"
	workloadGroup = "group"
	workloadE2E   = "e2e"
	workloadMixed = "mixed"
)

const (
	// defaultFill is how many entries the group workload loads before its
	// consumers start when neither --requests nor --producers is given.
	defaultFill = 200_000
	// stampLen is the width of the send time (unix nanoseconds, zero padded)
	// that producers put at the start of each value.
	stampLen = 20
)

// config is the tool's flags.
type config struct {
	addrs       [][]string // one slice per --addr occurrence, split on commas
	labels      []string
	cluster     clusterMode
	resp        int
	workload    string
	clients     int
	producers   int
	pipeline    int
	valueSize   int
	keys        int
	hashTags    bool
	maxLen      int64
	count       int64
	blockMS     int
	rate        float64
	duration    time.Duration
	durationSet bool // --duration was given: it limits the run even with --requests
	requests    int64
	warmup      time.Duration
	flush       bool
	jsonOut     string
	csvOut      string
	plotOut     string

	compare        bool
	streamraftBin  string
	nodes          int
	streamraftArgs string
}

// clusterMode is --cluster: auto (ask the server), or forced on or off.
type clusterMode int

const (
	clusterAuto clusterMode = iota
	clusterOn
	clusterOff
)

func (m *clusterMode) String() string {
	switch *m {
	case clusterOn:
		return "true"
	case clusterOff:
		return "false"
	}
	return "auto"
}

func (m *clusterMode) Set(s string) error {
	switch strings.ToLower(s) {
	case "auto":
		*m = clusterAuto
	case "true", "1", "on", "yes":
		*m = clusterOn
	case "false", "0", "off", "no":
		*m = clusterOff
	default:
		return fmt.Errorf("want auto, true or false, got %q", s)
	}
	return nil
}

// IsBoolFlag lets a bare --cluster mean --cluster=true.
func (m *clusterMode) IsBoolFlag() bool { return true }

// listFlag collects every occurrence of a repeatable flag.
type listFlag struct{ vals *[]string }

func (l listFlag) String() string {
	if l.vals == nil {
		return ""
	}
	return strings.Join(*l.vals, " ")
}

func (l listFlag) Set(s string) error {
	*l.vals = append(*l.vals, s)
	return nil
}

// parseConfig parses args; on -h it prints the usage to out and returns
// flag.ErrHelp.
func parseConfig(args []string, out io.Writer) (config, error) {
	var cfg config
	var addrs []string
	fs := flag.NewFlagSet("streamraft-bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { printUsage(fs, out) }
	fs.Var(listFlag{&addrs}, "addr", "`host:port` of the endpoint (repeatable or a comma list: seeds of one cluster; with several --label, one target per --addr) (default 127.0.0.1:6379)")
	fs.Var(listFlag{&cfg.labels}, "label", "`name` of the target in the table, JSON, CSV and plot (repeat it, one per --addr, to run several targets in turn)")
	fs.Var(&cfg.cluster, "cluster", "`auto`: send CLUSTER INFO and use a cluster client if it answers; true or false to force")
	fs.IntVar(&cfg.resp, "resp", 2, "RESP protocol version, 2 or 3")
	fs.StringVar(&cfg.workload, "workload", workloadXAdd, "xadd, group, e2e or mixed")
	fs.IntVar(&cfg.clients, "clients", 50, "client goroutines (consumers in group, e2e and mixed), each on its own connection")
	fs.IntVar(&cfg.producers, "producers", 0, "producer goroutines for group (0: load the keys first), e2e and mixed (0: as many as --clients)")
	fs.IntVar(&cfg.pipeline, "pipeline", 1, "XADDs sent together in one pipeline by each producer")
	fs.IntVar(&cfg.valueSize, "value-size", 100, "bytes of the value of field v")
	fs.IntVar(&cfg.keys, "keys", 1, "stream keys, bench:<i>")
	fs.BoolVar(&cfg.hashTags, "hash-tags", false, "name the keys bench:{<i>}")
	fs.Int64Var(&cfg.maxLen, "maxlen", 0, "XADD MAXLEN ~ N (0: no trimming)")
	fs.Int64Var(&cfg.count, "count", 10, "XREADGROUP COUNT")
	fs.IntVar(&cfg.blockMS, "block-ms", 100, "XREADGROUP BLOCK milliseconds")
	fs.Float64Var(&cfg.rate, "rate", 0, "total XADDs per second of all producers, latency counted from each XADD's scheduled time (0: as fast as possible)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time (after the warm-up)")
	fs.Int64Var(&cfg.requests, "requests", 0, "total operations to measure instead of a duration (group: entries to load first)")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "time run before measuring, not recorded (not for group without --producers: its loaded entries are all measured)")
	fs.BoolVar(&cfg.flush, "flush", false, "DEL the bench keys before starting")
	fs.StringVar(&cfg.jsonOut, "json", "", "write the results and per-second timelines as JSON to `file` ('-': stdout)")
	fs.StringVar(&cfg.csvOut, "csv", "", "write the results and per-second timelines as CSV to `file` ('-': stdout)")
	fs.StringVar(&cfg.plotOut, "plot", "", "write an SVG of throughput and latency over time to `file`")
	fs.BoolVar(&cfg.compare, "compare", false, "start redis-server (appendfsync always, then everysec) and a streamraft cluster, and run the workload on each")
	fs.StringVar(&cfg.streamraftBin, "streamraft-bin", "", "streamraft binary for --compare (default: go build ./cmd/streamraft)")
	fs.IntVar(&cfg.nodes, "nodes", 3, "streamraft nodes for --compare")
	fs.StringVar(&cfg.streamraftArgs, "streamraft-args", "", "extra flags for every streamraft node of --compare, space separated (e.g. \"--shards 4\")")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { cfg.durationSet = cfg.durationSet || f.Name == "duration" })
	if len(addrs) == 0 {
		addrs = []string{"127.0.0.1:6379"}
	}
	for _, a := range addrs {
		cfg.addrs = append(cfg.addrs, splitList(a))
	}
	return cfg, nil
}

// splitList splits a comma list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports every invalid flag combination at once.
func (c config) Validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	switch c.workload {
	case workloadXAdd, workloadGroup, workloadE2E, workloadMixed:
	default:
		check(true, "--workload %q: want xadd, group, e2e or mixed", c.workload)
	}
	check(c.resp != 2 && c.resp != 3, "--resp %d: want 2 or 3", c.resp)
	check(c.clients < 1, "--clients %d: want at least 1", c.clients)
	check(c.producers < 0, "--producers %d: want 0 or more", c.producers)
	check(c.pipeline < 1, "--pipeline %d: want at least 1", c.pipeline)
	check(c.valueSize < 0, "--value-size %d: want 0 or more", c.valueSize)
	check(c.stamped() && c.valueSize < stampLen, "--value-size %d: the %s workload puts the send time in the value; want at least %d", c.valueSize, c.workload, stampLen)
	check(c.keys < 1, "--keys %d: want at least 1", c.keys)
	check(c.consumes() && c.keys > c.clients, "--keys %d > --clients %d: every key needs a consumer", c.keys, c.clients)
	check(c.maxLen < 0, "--maxlen %d: want 0 or more", c.maxLen)
	check(c.count < 1, "--count %d: want at least 1", c.count)
	check(c.blockMS < 1, "--block-ms %d: want at least 1 (0 would block forever)", c.blockMS)
	check(c.rate < 0, "--rate %g: want 0 or more", c.rate)
	check(c.duration <= 0, "--duration %s: want more than 0", c.duration)
	check(c.requests < 0, "--requests %d: want 0 or more", c.requests)
	check(c.warmup < 0, "--warmup %s: want 0 or more", c.warmup)
	check(c.compare && c.nodes < 1, "--nodes %d: want at least 1", c.nodes)
	check(!c.compare && len(c.labels) > 1 && len(c.labels) != len(c.addrs),
		"%d --label for %d --addr: give one --addr per --label", len(c.labels), len(c.addrs))
	for _, group := range c.addrs {
		check(len(group) == 0, "--addr: empty address")
	}
	return errors.Join(errs...)
}

// consumes reports whether the workload runs consumer groups.
func (c config) consumes() bool { return c.workload != workloadXAdd }

// stamped reports whether producers write their send time into each value.
func (c config) stamped() bool { return c.workload == workloadE2E || c.workload == workloadMixed }

// producerCount is how many producer goroutines run alongside the
// measurement (group without --producers loads its keys beforehand).
func (c config) producerCount() int {
	switch {
	case c.workload == workloadXAdd:
		return c.clients
	case c.producers > 0:
		return c.producers
	case c.loadsFirst():
		return 0
	}
	return c.clients
}

// loadsFirst reports whether the workload loads its entries before
// measuring (group without --producers) instead of producing alongside.
func (c config) loadsFirst() bool { return c.workload == workloadGroup && c.producers == 0 }

// timeLimited reports whether --duration ends the run: it does unless only
// --requests was given.
func (c config) timeLimited() bool { return c.durationSet || c.requests == 0 }

// fillCount is how many entries the group workload loads before measuring.
func (c config) fillCount() int64 {
	if c.requests > 0 {
		return c.requests
	}
	return defaultFill
}

// key is the name of the i-th bench stream.
func (c config) key(i int) string {
	if c.hashTags {
		return "bench:{" + strconv.Itoa(i) + "}"
	}
	return "bench:" + strconv.Itoa(i)
}

// keyNames lists every bench stream.
func (c config) keyNames() []string {
	out := make([]string, c.keys)
	for i := range out {
		out[i] = c.key(i)
	}
	return out
}

// targets lists what to measure: every --addr as one cluster's seeds, or
// with several --label one target per --addr.
func (c config) targets() []Target {
	if len(c.labels) > 1 {
		out := make([]Target, len(c.labels))
		for i, l := range c.labels {
			out[i] = Target{Label: l, Addrs: c.addrs[i]}
		}
		return out
	}
	var all []string
	for _, g := range c.addrs {
		all = append(all, g...)
	}
	label := strings.Join(all, ",")
	if len(c.labels) == 1 {
		label = c.labels[0]
	}
	return []Target{{Label: label, Addrs: all}}
}
