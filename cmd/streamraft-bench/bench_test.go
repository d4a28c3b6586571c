package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// benchTimeout bounds one run of the tool in a test: about a second of
	// load, a warm-up and the set-up.
	benchTimeout = 30 * time.Second
	// clusterReadyTimeout bounds how long a cluster-mode redis-server takes
	// to report cluster_state:ok once it owns every slot (about a second).
	clusterReadyTimeout = 10 * time.Second
)

// requireRedis skips the test when redis-server is missing outside CI and
// fails it when CI is set (CI must run it).
func requireRedis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("redis-server not on PATH and CI=%s: the end-to-end bench test must run in CI", os.Getenv("CI"))
	}
	t.Skip("redis-server not on PATH: skipping the end-to-end bench test")
}

// startTestRedis starts redis-server the way --compare does (appendonly,
// appendfsync everysec) and returns its address.
func startTestRedis(t *testing.T) string {
	t.Helper()
	requireRedis(t)
	s, err := startRedis(context.Background(), t.TempDir(), "everysec")
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { s.stop(slog.New(slog.DiscardHandler)) })
	return s.addrs()[0]
}

// startTestRedisCluster starts a cluster-mode redis-server that owns every
// slot: a one-node Redis Cluster.
func startTestRedisCluster(t *testing.T) string {
	t.Helper()
	requireRedis(t)
	dir := t.TempDir()
	addrs, err := freeAddrs(1)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addrs[0])
	p, err := launch("redis-cluster", addrs[0], filepath.Join(dir, "redis.log"), "redis-server", "--port", port,
		"--bind", "127.0.0.1", "--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		"--save", "", "--appendonly", "no")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.stop() })
	ctx := context.Background()
	if err := p.waitPing(ctx); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: addrs[0]})
	defer c.Close()
	if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	for deadline := time.Now().Add(clusterReadyTimeout); ; time.Sleep(50 * time.Millisecond) {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return addrs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster-mode redis-server not ok after %s: %q, %v", clusterReadyTimeout, info, err)
		}
	}
}

// runBench runs the tool with args and returns what its --json says.
func runBench(t *testing.T, args ...string) jsonReport {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.json")
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args = append(args, "--json", out)
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstderr:\n%s", args, err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("read --json: %v", err)
	}
	var rep jsonReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("parse --json: %v\n%s", err, b)
	}
	if !strings.Contains(stderr.String(), "ops/s p50") {
		t.Errorf("no progress line on stderr:\n%s", stderr.String())
	}
	for _, r := range rep.Results {
		if !strings.Contains(stdout.String(), r.Workload) {
			t.Errorf("the table on stdout lacks %s:\n%s", r.Workload, stdout.String())
		}
	}
	return rep
}

// resultOf returns the result of one series, failing if it is missing.
func resultOf(t *testing.T, rep jsonReport, name string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Workload == name {
			return r
		}
	}
	t.Fatalf("no %s result in %+v", name, rep.Results)
	return Result{}
}

// checkSane checks what every run must show: operations, no errors,
// ordered percentiles and a timeline.
func checkSane(t *testing.T, r Result) {
	t.Helper()
	if r.Ops <= 0 || r.OpsPerSec <= 0 {
		t.Errorf("%s: ops %d, ops/s %g; want > 0", r.Workload, r.Ops, r.OpsPerSec)
	}
	if r.Errors != 0 {
		t.Errorf("%s: %d errors (first: %s); want 0", r.Workload, r.Errors, r.FirstErr)
	}
	ps := []float64{r.P50ms, r.P90ms, r.P99ms, r.P999ms, r.MaxMs}
	if ps[0] <= 0 {
		t.Errorf("%s: p50 %g ms; want > 0", r.Workload, ps[0])
	}
	for i := 1; i < len(ps); i++ {
		if ps[i] < ps[i-1] {
			t.Errorf("%s: percentiles p50..max = %v; want non-decreasing", r.Workload, ps)
		}
	}
	if len(r.Timeline) == 0 {
		t.Errorf("%s: empty timeline", r.Workload)
	}
	var sum int64
	for _, p := range r.Timeline {
		sum += p.Ops
	}
	if sum != r.Ops {
		t.Errorf("%s: timeline ops sum to %d; want the total %d", r.Workload, sum, r.Ops)
	}
}

// streamState returns the total XLEN of the bench keys and their pending
// entries in group bench (if it exists).
func streamState(t *testing.T, c redis.UniversalClient, keys int, hashTags bool) (length, pending int64) {
	t.Helper()
	ctx := context.Background()
	cfg := config{keys: keys, hashTags: hashTags}
	for _, k := range cfg.keyNames() {
		n, err := c.XLen(ctx, k).Result()
		if err != nil {
			t.Fatalf("XLEN %s: %v", k, err)
		}
		length += n
		p, err := c.XPending(ctx, k, groupName).Result()
		if err != nil && !strings.HasPrefix(err.Error(), "NOGROUP") {
			t.Fatalf("XPENDING %s: %v", k, err)
		}
		if p != nil {
			pending += p.Count
		}
	}
	return length, pending
}

// shortRun are the flags of a one-second test run with few clients.
var shortRun = []string{"--duration", "1s", "--warmup", "200ms", "--flush"}

func TestWorkloadsOnRedis(t *testing.T) {
	addr := startTestRedis(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	bench := func(t *testing.T, args ...string) jsonReport {
		t.Helper()
		rep := runBench(t, append([]string{"--addr", addr}, args...)...)
		for _, r := range rep.Results {
			if r.Target.Cluster {
				t.Errorf("%s: used a cluster client on a standalone redis-server", r.Workload)
			}
			// A server this tool did not start: only its own CPU is known.
			if len(r.CPU) != 1 || r.CPU[0].Process != "streamraft-bench" || r.CPU[0].USPerOp <= 0 {
				t.Errorf("%s: cpu = %+v; want the load generator's alone, above zero", r.Workload, r.CPU)
			}
		}
		return rep
	}

	t.Run("xadd --requests writes exactly that many entries", func(t *testing.T) {
		rep := bench(t, "--requests", "3000", "--warmup", "0", "--clients", "4", "--pipeline", "4", "--keys", "2", "--flush")
		r := resultOf(t, rep, "xadd")
		checkSane(t, r)
		length, _ := streamState(t, c, 2, false)
		if r.Ops != 3000 || length != 3000 {
			t.Errorf("ops %d, XLEN total %d; want 3000 and 3000", r.Ops, length)
		}
	})
	t.Run("xadd --maxlen trims", func(t *testing.T) {
		rep := bench(t, append(shortRun, "--clients", "4", "--maxlen", "100", "--value-size", "10")...)
		r := resultOf(t, rep, "xadd")
		checkSane(t, r)
		// MAXLEN ~ removes whole nodes of up to 100 entries.
		length, _ := streamState(t, c, 1, false)
		if length < 100 || length > 200 || r.Ops <= length {
			t.Errorf("XLEN %d after %d XADD MAXLEN ~ 100; want 100..200", length, r.Ops)
		}
	})
	t.Run("group consumes every loaded entry", func(t *testing.T) {
		rep := bench(t, "--workload", "group", "--requests", "5000", "--clients", "4", "--keys", "2", "--count", "20", "--flush")
		r := resultOf(t, rep, "group")
		checkSane(t, r)
		length, pending := streamState(t, c, 2, false)
		if r.Ops != 5000 || length != 5000 || pending != 0 {
			t.Errorf("acked %d, XLEN %d, pending %d; want 5000, 5000, 0", r.Ops, length, pending)
		}
	})
	t.Run("group with producers", func(t *testing.T) {
		rep := bench(t, append(shortRun, "--workload", "group", "--producers", "2", "--clients", "4", "--keys", "2")...)
		checkSane(t, resultOf(t, rep, "group"))
		checkSane(t, resultOf(t, rep, "group/produce"))
		if _, pending := streamState(t, c, 2, false); pending != 0 {
			t.Errorf("XPENDING total %d after the run; want 0", pending)
		}
	})
	t.Run("e2e", func(t *testing.T) {
		rep := bench(t, append(shortRun, "--workload", "e2e", "--rate", "2000", "--producers", "2", "--clients", "4", "--keys", "2")...)
		e2e := resultOf(t, rep, "e2e")
		checkSane(t, e2e)
		checkSane(t, resultOf(t, rep, "e2e/produce"))
		// At 2,000/s on loopback an entry arrives in milliseconds, not seconds.
		if e2e.P50ms > 1000 {
			t.Errorf("e2e p50 %g ms; want well under a second", e2e.P50ms)
		}
		if _, pending := streamState(t, c, 2, false); pending != 0 {
			t.Errorf("XPENDING total %d after the run; want 0", pending)
		}
	})
	t.Run("e2e --requests receives every entry", func(t *testing.T) {
		rep := bench(t, "--workload", "e2e", "--requests", "600", "--warmup", "0", "--producers", "2", "--clients", "2", "--flush")
		e2e, produce := resultOf(t, rep, "e2e"), resultOf(t, rep, "e2e/produce")
		checkSane(t, e2e)
		checkSane(t, produce)
		length, pending := streamState(t, c, 1, false)
		if produce.Ops != 600 || e2e.Ops != 600 || length != 600 || pending != 0 {
			t.Errorf("produced %d, received %d, XLEN %d, pending %d; want 600, 600, 600, 0", produce.Ops, e2e.Ops, length, pending)
		}
	})
	t.Run("mixed at a rate, with CSV and plot", func(t *testing.T) {
		dir := t.TempDir()
		csvPath, svgPath := filepath.Join(dir, "out.csv"), filepath.Join(dir, "out.svg")
		rep := bench(t, append(shortRun, "--workload", "mixed", "--rate", "1000", "--producers", "2", "--clients", "4",
			"--resp", "3", "--csv", csvPath, "--plot", svgPath)...)
		produce := resultOf(t, rep, "mixed/produce")
		checkSane(t, resultOf(t, rep, "mixed/consume"))
		checkSane(t, produce)
		// Paced at 1,000/s: within 10% (the last point may be partial).
		if produce.OpsPerSec < 900 || produce.OpsPerSec > 1100 {
			t.Errorf("producers ran at %g/s; want about --rate 1000", produce.OpsPerSec)
		}
		if _, pending := streamState(t, c, 1, false); pending != 0 {
			t.Errorf("XPENDING %d after the run; want 0", pending)
		}
		checkFiles(t, csvPath, svgPath, rep)
	})
}

// checkFiles checks that the --csv and --plot files of a run describe its
// results.
func checkFiles(t *testing.T, csvPath, svgPath string, rep jsonReport) {
	t.Helper()
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatalf("open --csv: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read --csv: %v", err)
	}
	totals := 0
	for _, row := range rows[1:] {
		if row[0] == "total" {
			totals++
		}
	}
	if totals != len(rep.Results) {
		t.Errorf("--csv has %d total rows; want %d", totals, len(rep.Results))
	}
	b, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatalf("read --plot: %v", err)
	}
	var doc svgDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse --plot: %v", err)
	}
	if len(doc.Polylines) != 4*len(rep.Results) {
		t.Errorf("--plot has %d polylines; want %d", len(doc.Polylines), 4*len(rep.Results))
	}
}

func TestClusterModeRedis(t *testing.T) {
	addr := startTestRedisCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	defer c.Close()
	t.Run("xadd pipelines over hash-tagged keys", func(t *testing.T) {
		rep := runBench(t, "--addr", addr, "--requests", "2000", "--warmup", "0", "--clients", "4",
			"--pipeline", "8", "--keys", "4", "--hash-tags", "--flush")
		r := resultOf(t, rep, "xadd")
		checkSane(t, r)
		if !r.Target.Cluster {
			t.Errorf("CLUSTER INFO answered, but a standalone client was used")
		}
		if length, _ := streamState(t, c, 4, true); r.Ops != 2000 || length != 2000 {
			t.Errorf("ops %d, XLEN total %d; want 2000 and 2000", r.Ops, length)
		}
	})
	t.Run("group over several keys", func(t *testing.T) {
		rep := runBench(t, "--addr", addr, "--workload", "group", "--requests", "2000", "--clients", "4", "--keys", "4", "--flush")
		r := resultOf(t, rep, "group")
		checkSane(t, r)
		length, pending := streamState(t, c, 4, false)
		if r.Ops != 2000 || length != 2000 || pending != 0 {
			t.Errorf("acked %d, XLEN %d, pending %d; want 2000, 2000, 0", r.Ops, length, pending)
		}
	})
}

// TestCompare runs --compare with a one-node streamraft for a second per
// target: it builds streamraft (as it does without --streamraft-bin),
// starts both redis-servers and streamraft, and reports ratios.
func TestCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts streamraft")
	}
	requireRedis(t)
	rep := runBench(t, "--compare", "--nodes", "1", "--clients", "8", "--duration", "1s", "--warmup", "200ms")
	labels := []string{labelRedisAlways, labelRedisEverysec, streamraftLabel(1)}
	if len(rep.Results) != len(labels) {
		t.Fatalf("%d results; want %d", len(rep.Results), len(labels))
	}
	for i, r := range rep.Results {
		if r.Target.Label != labels[i] {
			t.Errorf("result %d is %s; want %s", i, r.Target.Label, labels[i])
		}
		checkSane(t, r)
	}
	if !rep.Results[2].Target.Cluster {
		t.Errorf("streamraft answered CLUSTER INFO, but a standalone client was used")
	}
	// The CPU of each server the tool started, then its own.
	servers := []string{"redis-server-always", "redis-server-everysec", "streamraft-n1"}
	for i, r := range rep.Results {
		if len(r.CPU) != 2 || r.CPU[0].Process != servers[i] || r.CPU[1].Process != "streamraft-bench" {
			t.Errorf("%s: cpu = %+v; want %s then streamraft-bench", r.Target.Label, r.CPU, servers[i])
			continue
		}
		for _, u := range r.CPU {
			if u.Cores <= 0 || u.USPerOp <= 0 {
				t.Errorf("%s: %s used %.2f cores, %g us/op; want both above zero", r.Target.Label, u.Process, u.Cores, u.USPerOp)
			}
		}
	}
	if len(rep.Ratios) != 2 {
		t.Fatalf("ratios = %+v; want streamraft against each redis", rep.Ratios)
	}
	for _, r := range rep.Ratios {
		var against Result
		for _, res := range rep.Results {
			if res.Target.Label == r.Against {
				against = res
			}
		}
		if want := rep.Results[2].OpsPerSec / against.OpsPerSec; r.OpsPerSec != want {
			t.Errorf("ops/s ratio against %s = %g; want %g", r.Against, r.OpsPerSec, want)
		}
	}
	// Every server the tool started is stopped: nothing answers any more.
	for _, r := range rep.Results {
		if conn, err := net.DialTimeout("tcp", r.Target.Addrs[0], time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still listening on %s after --compare", r.Target.Label, r.Target.Addrs[0])
		}
	}
}

// TestStartRedisConfig checks that the --compare redis targets run with
// the durability settings their labels promise.
func TestStartRedisConfig(t *testing.T) {
	requireRedis(t)
	for _, fsync := range []string{"always", "everysec"} {
		s, err := startRedis(context.Background(), t.TempDir(), fsync)
		if err != nil {
			t.Fatalf("start redis-server %s: %v", fsync, err)
		}
		c := redis.NewClient(&redis.Options{Addr: s.addrs()[0]})
		got, err := c.ConfigGet(context.Background(), "*").Result()
		c.Close()
		s.stop(slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("CONFIG GET: %v", err)
		}
		want := map[string]string{"appendonly": "yes", "appendfsync": fsync, "save": ""}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: CONFIG GET %s = %q; want %q", fsync, k, got[k], v)
			}
		}
	}
}
