package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// A three-node cluster of real streamraft processes, started as the README
// starts them, driven only through the real redis-cli.

const (
	// procsFormTimeout bounds how long the three processes may take to find
	// each other over gossip, form the meta group and elect a leader for
	// every shard (a node answers PING only then): a few seconds on
	// loopback, generous for a loaded CI machine.
	procsFormTimeout = 60 * time.Second
	// procsFailoverTimeout bounds how long writes may fail after a node is
	// stopped: the two survivors must notice the missing leader (Raft
	// heartbeat timeouts of about a second per shard) and elect new ones.
	procsFailoverTimeout = 30 * time.Second
	// procsCLITimeout bounds one redis-cli run, so that a connection that
	// never answers fails the test instead of hanging it.
	procsCLITimeout = 10 * time.Second
	// procsRetryPause is the pause between two attempts of a write that
	// answered TRYAGAIN, CLUSTERDOWN or a connection error.
	procsRetryPause = 100 * time.Millisecond
	// procsKeys is how many job-<i> streams the test writes.
	procsKeys = 30
)

// procsIDPattern matches a stream entry ID as redis-cli prints it.
var procsIDPattern = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// procsCluster is three streamraft processes and the redis-cli that talks
// to them.
type procsCluster struct {
	t     testing.TB
	cli   string
	nodes []*process // n1, n2, n3
}

// TestClusterProcesses runs three streamraft processes that form a cluster
// through --join/--bootstrap-expect and checks, with the real redis-cli,
// cluster-mode redirects, MOVED replies, CLUSTER NODES/SLOTS, redis-cli
// --cluster check, and writes surviving the SIGTERM of one node.
func TestClusterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process cluster test")
	}
	c := startProcsCluster(t)
	n1 := c.nodes[0]
	slots := c.keySlots()
	owners := c.owners(slots)
	t.Run("redis-cli -c writes and reads through different nodes", func(t *testing.T) {
		c.writeAll(t, n1, slots, owners)
		c.checkMoved(t, n1, slots, owners)
		c.checkXLen(t, c.nodes[1], "1")
	})
	t.Run("CLUSTER NODES and CLUSTER SLOTS", func(t *testing.T) {
		for _, n := range c.nodes {
			c.checkNodes(t, n)
			c.checkSlots(t, n)
		}
	})
	t.Run("redis-cli --cluster check", func(t *testing.T) {
		c.checkClusterCheck(t, c.nodes[1])
	})
	t.Run("writes survive a SIGTERMed node", func(t *testing.T) {
		victim, reader := c.pickVictim(t, owners)
		c.terminate(t, victim)
		c.rewriteAll(t, n1)
		c.checkXLen(t, reader, "2")
	})
}

// startProcsCluster starts n3, n2 and n1 in that order (the order must
// not matter) and waits until each answers PING.
func startProcsCluster(t testing.TB) *procsCluster {
	t.Helper()
	c := &procsCluster{t: t, cli: requireRedisCLI(t)}
	bin := buildBinary(t)
	gossip := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	join := strings.Join(gossip, ",")
	c.nodes = make([]*process, len(gossip))
	for i := len(gossip) - 1; i >= 0; i-- {
		c.nodes[i] = launchNode(t, bin, fmt.Sprintf("n%d", i+1), gossip[i], join, len(gossip))
	}
	for _, p := range c.nodes {
		if err := p.waitPing(procsFormTimeout); err != nil {
			t.Fatalf("%s did not answer PING on %s: %v\noutput:\n%s", p.name, p.addr, err, p.out.Tail(outputTail))
		}
	}
	return c
}

// launchNode starts one node with the README's flags on free ports and a
// fresh data dir, without waiting for it: a node answers PING only once
// all the others have joined.
func launchNode(t testing.TB, bin, id, gossipAddr, join string, expect int) *process {
	t.Helper()
	addr := freeAddr(t)
	args := []string{"--node-id", id, "--data-dir", filepath.Join(t.TempDir(), id),
		"--addr", addr, "--raft-addr", freeAddr(t), "--http-addr", freeAddr(t),
		"--gossip-addr", gossipAddr, "--join", join, "--bootstrap-expect", strconv.Itoa(expect),
		"--log-level", "warn"}
	p := &process{name: id, addr: addr, bin: bin, args: args, out: new(lockedBuffer)}
	p.relaunch(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output (last %d bytes):\n%s", id, outputTail, p.out.Tail(outputTail))
		}
		p.stop(t)
	})
	return p
}

// relaunch starts p's binary with its arguments (again, after it exited).
func (p *process) relaunch(t testing.TB) {
	t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.done = make(chan struct{})
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	cmd, done := p.cmd, p.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
}

// requireRedisCLI returns the path of redis-cli, skipping the test when it
// is missing outside CI and failing it when CI is set.
func requireRedisCLI(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-cli")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("redis-cli not on PATH and CI=%s: the multi-process cluster test must run in CI", os.Getenv("CI"))
	}
	t.Skip("redis-cli not on PATH: skipping the multi-process cluster test")
	return ""
}

// run runs redis-cli against p with args (and stdin, if not empty) and
// returns its trimmed stdout and stderr.
func (c *procsCluster) run(p *process, stdin string, args ...string) (string, error) {
	host, port, err := net.SplitHostPort(p.addr)
	if err != nil {
		return "", fmt.Errorf("split %q: %w", p.addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), procsCLITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.cli, append([]string{"-h", host, "-p", port}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("redis-cli -p %s %q: %w", port, args, err)
	}
	return strings.TrimSpace(string(out)), err
}

// mustRun is run that fails the test on a non-zero exit.
func (c *procsCluster) mustRun(t testing.TB, p *process, args ...string) string {
	t.Helper()
	out, err := c.run(p, "", args...)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return out
}

// procsKey is the i-th stream the test writes.
func procsKey(i int) string { return fmt.Sprintf("job-%d", i) }

// keySlots asks the cluster for CLUSTER KEYSLOT of every job key, and checks
// it against the slot function the server uses.
func (c *procsCluster) keySlots() []int {
	slots := make([]int, procsKeys)
	for i := range slots {
		out := c.mustRun(c.t, c.nodes[0], "CLUSTER", "KEYSLOT", procsKey(i))
		slot, err := strconv.Atoi(out)
		if err != nil || slot != fsm.KeySlot([]byte(procsKey(i))) {
			c.t.Fatalf("CLUSTER KEYSLOT %s = %q; want %d", procsKey(i), out, fsm.KeySlot([]byte(procsKey(i))))
		}
		slots[i] = slot
	}
	return slots
}

// owners maps each job key (by index) to the RESP address of the node that
// leads its slot, once the three nodes' CLUSTER NODES agree on who leads
// what; the keys must spread over more than one node, or no redirect
// would be tested.
func (c *procsCluster) owners(slots []int) []string {
	lines := c.agreedLayout()
	owners := make([]string, len(slots))
	distinct := map[string]bool{}
	for i, slot := range slots {
		for _, l := range lines {
			if l.owns(slot) {
				owners[i] = l.addr
			}
		}
		if owners[i] == "" {
			c.t.Fatalf("CLUSTER NODES: no node owns slot %d of %s", slot, procsKey(i))
		}
		distinct[owners[i]] = true
	}
	if len(distinct) < 2 {
		c.t.Fatalf("the %d keys are all led by %v; want them spread over nodes", len(slots), distinct)
	}
	return owners
}

// agreedLayout polls CLUSTER NODES on every node until all show the same
// slot leaders, and returns n1's lines: just after formation a leadership
// may still be on its way to the node the placement prefers.
func (c *procsCluster) agreedLayout() []nodeLine {
	deadline := time.Now().Add(procsFormTimeout)
	for {
		var first []nodeLine
		agree := true
		for i, n := range c.nodes {
			lines := parseClusterNodes(c.t, c.mustRun(c.t, n, "CLUSTER", "NODES"))
			if i == 0 {
				first = lines
			}
			agree = agree && layoutKey(lines) == layoutKey(first)
		}
		if agree {
			return first
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("CLUSTER NODES still disagree after %v", procsFormTimeout)
		}
		time.Sleep(procsRetryPause)
	}
}

// layoutKey renders who owns which slots, without the myself flag, so two
// nodes' views can be compared.
func layoutKey(lines []nodeLine) string {
	keys := make([]string, len(lines))
	for i, l := range lines {
		keys[i] = fmt.Sprint(l.addr, l.ranges)
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// writeAll XADDs one entry to every job key through p with -c. The first
// key p does not lead goes through redis-cli's stdin, the mode in which it
// prints its redirect notice; the others are arguments, where it prints
// only the final answer.
func (c *procsCluster) writeAll(t *testing.T, p *process, slots []int, owners []string) {
	notice := false
	for i := range procsKeys {
		key := procsKey(i)
		if !notice && owners[i] != p.addr {
			notice = true
			c.writeNotice(t, p, key, slots[i], owners[i])
			continue
		}
		out := c.mustRun(t, p, "-c", "XADD", key, "*", "n", "1")
		if !procsIDPattern.MatchString(out) {
			t.Fatalf("redis-cli -c -p %s XADD %s (led by %s) printed %q; want only an entry ID", p.name, key, owners[i], out)
		}
	}
}

// writeNotice XADDs to a key led by another node through redis-cli -c's
// stdin and checks it prints the redirect to the leader, then the ID.
func (c *procsCluster) writeNotice(t *testing.T, p *process, key string, slot int, owner string) {
	t.Helper()
	out, err := c.run(p, fmt.Sprintf("XADD %s * n 1\n", key), "-c")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("redis-cli -c -p <%s> with stdin %q printed:\n%s", p.name, "XADD "+key+" * n 1", out)
	notice, id, _ := strings.Cut(out, "\n")
	want := fmt.Sprintf("-> Redirected to slot [%d] located at %s", slot, owner)
	if notice != want || !procsIDPattern.MatchString(id) {
		t.Fatalf("redis-cli -c -p %s XADD %s printed %q; want %q, then an entry ID", p.name, key, out, want)
	}
}

// checkMoved: without -c, a write through p to a key another node leads
// answers MOVED with the key's slot and the leader's RESP address.
func (c *procsCluster) checkMoved(t *testing.T, p *process, slots []int, owners []string) {
	t.Helper()
	for i := range procsKeys {
		if owners[i] == p.addr {
			continue
		}
		// --no-raw: redis-cli's tty formatting, as a user sees it.
		out := c.mustRun(t, p, "--no-raw", "XADD", procsKey(i), "*", "n", "moved")
		t.Logf("redis-cli --no-raw -p <%s> XADD %s * n moved printed %q", p.name, procsKey(i), out)
		want := fmt.Sprintf("(error) MOVED %d %s", slots[i], owners[i])
		if out != want || !c.isNode(owners[i]) {
			t.Fatalf("redis-cli -p %s XADD %s printed %q; want %q, a node's RESP address", p.name, procsKey(i), out, want)
		}
		return
	}
	t.Fatalf("every key is led by %s; want one led elsewhere", p.name)
}

// isNode reports whether addr is the RESP address of one of the nodes.
func (c *procsCluster) isNode(addr string) bool {
	for _, n := range c.nodes {
		if n.addr == addr {
			return true
		}
	}
	return false
}

// checkXLen: XLEN of every job key, through p with -c, is want.
func (c *procsCluster) checkXLen(t *testing.T, p *process, want string) {
	t.Helper()
	for i := range procsKeys {
		if got := c.mustRun(t, p, "-c", "XLEN", procsKey(i)); got != want {
			t.Errorf("redis-cli -c -p %s XLEN %s = %q; want %q", p.name, procsKey(i), got, want)
		}
	}
}

// nodeLine is one line of CLUSTER NODES.
type nodeLine struct {
	addr   string // RESP address, without @cport
	flags  []string
	ranges [][2]int
}

// owns reports whether slot is in one of l's ranges.
func (l nodeLine) owns(slot int) bool {
	for _, r := range l.ranges {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// parseClusterNodes parses CLUSTER NODES text: id addr@cport flags master
// ping pong epoch link slot...
func parseClusterNodes(t testing.TB, text string) []nodeLine {
	t.Helper()
	var lines []nodeLine
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			t.Fatalf("CLUSTER NODES line %q: %d fields; want at least 8", line, len(f))
		}
		addr, _, _ := strings.Cut(f[1], "@")
		l := nodeLine{addr: addr, flags: strings.Split(f[2], ",")}
		for _, s := range f[8:] {
			r, err := parseSlotRange(s)
			if err != nil {
				t.Fatalf("CLUSTER NODES line %q: %v", line, err)
			}
			l.ranges = append(l.ranges, r)
		}
		lines = append(lines, l)
	}
	return lines
}

// parseSlotRange parses "5" or "0-5460".
func parseSlotRange(s string) ([2]int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, errA := strconv.Atoi(lo)
	b, errB := strconv.Atoi(hi)
	if err := errors.Join(errA, errB); err != nil || a > b {
		return [2]int{}, fmt.Errorf("bad slot range %q: %v", s, err)
	}
	return [2]int{a, b}, nil
}

// checkNodes: p's CLUSTER NODES lists the three nodes once each, p itself
// flagged myself, and their slots cover 0-16383 exactly once.
func (c *procsCluster) checkNodes(t *testing.T, p *process) {
	t.Helper()
	out := c.mustRun(t, p, "CLUSTER", "NODES")
	lines := parseClusterNodes(t, out)
	if len(lines) != len(c.nodes) {
		t.Fatalf("CLUSTER NODES on %s: %d lines; want %d:\n%s", p.name, len(lines), len(c.nodes), out)
	}
	seen := map[string]bool{}
	var ranges [][2]int
	for _, l := range lines {
		if !c.isNode(l.addr) || seen[l.addr] {
			t.Errorf("CLUSTER NODES on %s lists %s; want each node's RESP address once:\n%s", p.name, l.addr, out)
		}
		seen[l.addr] = true
		if myself := slices.Contains(l.flags, "myself"); myself != (l.addr == p.addr) {
			t.Errorf("CLUSTER NODES on %s: %s has myself=%v; want %v", p.name, l.addr, myself, !myself)
		}
		ranges = append(ranges, l.ranges...)
	}
	if err := coverAll(ranges); err != nil {
		t.Errorf("CLUSTER NODES on %s: %v:\n%s", p.name, err, out)
	}
}

// checkSlots: p's CLUSTER SLOTS (read as redis-cli --json prints it) covers
// 0-16383 exactly once, every range served first by one of the nodes.
func (c *procsCluster) checkSlots(t *testing.T, p *process) {
	t.Helper()
	out := c.mustRun(t, p, "--json", "CLUSTER", "SLOTS")
	var rows [][]json.RawMessage
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("CLUSTER SLOTS on %s: %v:\n%s", p.name, err, out)
	}
	var ranges [][2]int
	for _, row := range rows {
		var r [2]int
		var master []any
		if len(row) < 3 || json.Unmarshal(row[0], &r[0]) != nil || json.Unmarshal(row[1], &r[1]) != nil ||
			json.Unmarshal(row[2], &master) != nil || len(master) < 2 {
			t.Fatalf("CLUSTER SLOTS on %s: malformed row %s", p.name, row)
		}
		if addr := net.JoinHostPort(fmt.Sprint(master[0]), fmt.Sprint(master[1])); !c.isNode(addr) {
			t.Errorf("CLUSTER SLOTS on %s: %d-%d served by %s; want one of the nodes", p.name, r[0], r[1], addr)
		}
		ranges = append(ranges, r)
	}
	if err := coverAll(ranges); err != nil {
		t.Errorf("CLUSTER SLOTS on %s: %v:\n%s", p.name, err, out)
	}
}

// coverAll checks that ranges cover every slot exactly once.
func coverAll(ranges [][2]int) error {
	count := make([]int, fsm.SlotCount)
	for _, r := range ranges {
		if r[0] < 0 || r[1] >= fsm.SlotCount {
			return fmt.Errorf("range %d-%d outside 0-%d", r[0], r[1], fsm.SlotCount-1)
		}
		for s := r[0]; s <= r[1]; s++ {
			count[s]++
		}
	}
	for s, n := range count {
		if n != 1 {
			return fmt.Errorf("slot %d covered %d times; want once", s, n)
		}
	}
	return nil
}

// checkClusterCheck runs redis-cli --cluster check against p; it must
// report every slot covered.
func (c *procsCluster) checkClusterCheck(t *testing.T, p *process) {
	t.Helper()
	out, err := c.run(p, "", "--cluster", "check", p.addr)
	t.Logf("redis-cli --cluster check %s (%s):\n%s", p.addr, p.name, out)
	const want = "[OK] All 16384 slots covered."
	if err != nil || !strings.Contains(out, want) {
		t.Errorf("redis-cli --cluster check %s: %v; want it to print %q", p.addr, err, want)
	}
}

// pickVictim chooses the node other than n1 that leads the most job keys
// (so that stopping it moves leaders the writes need), and the other
// survivor, through which the writes are read back.
func (c *procsCluster) pickVictim(t *testing.T, owners []string) (victim, reader *process) {
	t.Helper()
	led := map[string]int{}
	for _, o := range owners {
		led[o]++
	}
	victim, reader = c.nodes[1], c.nodes[2]
	if led[reader.addr] > led[victim.addr] {
		victim, reader = reader, victim
	}
	t.Logf("stopping %s, which leads %d of the %d keys", victim.name, led[victim.addr], procsKeys)
	return victim, reader
}

// terminate sends SIGTERM to p and waits for a clean exit.
func (c *procsCluster) terminate(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Fatalf("%s still running %v after SIGTERM", p.name, stopTimeout)
	}
	if !p.cmd.ProcessState.Success() {
		t.Errorf("%s exited with %v after SIGTERM; want 0", p.name, p.cmd.ProcessState)
	}
}

// rewriteAll XADDs a second entry to every job key through p with -c,
// retrying while the cluster elects new leaders; all must succeed within
// procsFailoverTimeout.
func (c *procsCluster) rewriteAll(t *testing.T, p *process) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(procsFailoverTimeout)
	seen := map[string]int{} // transient answers, for the log
	for i := range procsKeys {
		if err := c.xaddRetry(p, procsKey(i), deadline, seen); err != nil {
			t.Fatalf("after %v: %v; transient answers seen: %v", time.Since(start).Round(time.Millisecond), err, seen)
		}
	}
	t.Logf("all %d writes through %s succeeded %v after the SIGTERM; transient answers: %v",
		procsKeys, p.name, time.Since(start).Round(time.Millisecond), seen)
}

// xaddRetry XADDs to key through p with -c until it prints an entry ID,
// retrying transient answers until deadline.
func (c *procsCluster) xaddRetry(p *process, key string, deadline time.Time, seen map[string]int) error {
	for {
		out, err := c.run(p, "", "-c", "XADD", key, "*", "n", "2")
		if err == nil && procsIDPattern.MatchString(out) {
			return nil
		}
		if !transientCLI(out) {
			return fmt.Errorf("redis-cli -c -p %s XADD %s: %v: %q", p.name, key, err, out)
		}
		seen[transientKind(out)]++
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-cli -c -p %s XADD %s still answers %q", p.name, key, out)
		}
		time.Sleep(procsRetryPause)
	}
}

// transientMarks are the parts of redis-cli output that mean "try again":
// no leader yet, or a redirect to the stopped node.
var transientMarks = []string{"TRYAGAIN", "CLUSTERDOWN", "Could not connect", "Connection refused",
	"Connection reset", "Server closed the connection", "I/O error"}

func transientCLI(out string) bool { return transientKind(out) != "" }

// transientKind is the first transient mark in out, "" if none.
func transientKind(out string) string {
	for _, m := range transientMarks {
		if strings.Contains(out, m) {
			return m
		}
	}
	return ""
}
