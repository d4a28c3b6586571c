package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Differential test: every testdata/diff/*.txt script (format in
// diff_script_test.go) runs against a real redis-server and against
// streamraft, in RESP2 and in RESP3, and the raw replies must be identical.
// The reference is a one-node Redis Cluster (all 16384 slots) and streamraft
// runs with --shards diffShards, so both answer CROSSSLOT alike.
//
// Environment:
//
//	STREAMRAFT_DIFF_TARGET=redis   compare redis-server with a second
//	                               cluster-mode redis-server (tests the harness and the
//	                               scripts without streamraft)
//	STREAMRAFT_DIFF_SCRIPT=xadd    run only scripts whose name contains this
//	STREAMRAFT_DIFF_LOG=1          log every command with redis's reply

const (
	// replyTimeout bounds the wait for any single reply; blocking commands in
	// the scripts block for well under this.
	replyTimeout = 10 * time.Second
	// blockedTimeout bounds @blocked's polling.
	blockedTimeout = 5 * time.Second
	// settleDelay is @blocked's fallback for a server whose INFO does not
	// report blocked_clients: long enough for a sent command to be parsed
	// and parked on an idle loopback server.
	settleDelay = 300 * time.Millisecond
	// diffShards is streamraft's --shards in the differential tests: the
	// reference is a one-node Redis Cluster, so cross-slot commands answer
	// CROSSSLOT on both.
	diffShards = 16
)

func TestDiff(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("testdata", "diff", "*.txt"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in testdata/diff (err %v)", err)
	}
	ref := startRedisCluster(t)
	var target *process
	switch v := os.Getenv("STREAMRAFT_DIFF_TARGET"); v {
	case "redis":
		target = startRedisCluster(t)
		target.name = "redis2"
	case "", "streamraft":
		target = startStreamraft(t, buildBinary(t), "--shards", fmt.Sprint(diffShards))
	default:
		t.Fatalf("STREAMRAFT_DIFF_TARGET=%q; want redis or streamraft", v)
	}
	only := os.Getenv("STREAMRAFT_DIFF_SCRIPT")
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		if only != "" && !strings.Contains(name, only) {
			continue
		}
		steps, err := loadScript(path)
		if err != nil {
			t.Errorf("load %s: %v", path, err)
			continue
		}
		for _, proto := range scriptProtocols(steps) {
			t.Run(fmt.Sprintf("%s/resp%d", name, proto), func(t *testing.T) {
				r := &diffRunner{t: t, script: filepath.Base(path), servers: [2]*process{ref, target},
					proto: proto, conns: map[string]*connPair{}, cur: "1"}
				defer r.closeAll()
				r.flushAll()
				for _, st := range steps {
					r.run(st)
				}
			})
		}
	}
}

// scriptProtocols returns the RESP versions a script runs in.
func scriptProtocols(steps []scriptStep) []int {
	for _, st := range steps {
		if st.dir == "resp" {
			n, _ := strconv.Atoi(st.arg)
			return []int{n}
		}
	}
	return []int{2, 3}
}

// connPair is one logical connection: one socket to each server.
type connPair struct {
	c       [2]*rawConn
	pending int // @send commands whose replies were not read yet
}

// reporter is the part of *testing.T the runner uses; the harness's own
// tests substitute a recorder to check that mismatches are reported.
type reporter interface {
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// diffRunner runs one script in one protocol version.
type diffRunner struct {
	t       reporter
	script  string
	servers [2]*process // [0] redis (the reference), [1] the target
	proto   int
	conns   map[string]*connPair
	cur     string
}

// targetIsRedis reports whether the target is a second redis-server.
func (r *diffRunner) targetIsRedis() bool { return strings.HasPrefix(r.servers[1].name, "redis") }

// conn returns the current connection, dialing it (and sending HELLO 3 in a
// RESP3 run) on first use.
func (r *diffRunner) conn(line int) *connPair {
	if cp, ok := r.conns[r.cur]; ok {
		return cp
	}
	cp := &connPair{}
	for i, p := range r.servers {
		c, err := dialRaw(p.addr)
		if err != nil {
			r.t.Fatalf("%s:%d: %v", r.script, line, err)
		}
		cp.c[i] = c
	}
	r.conns[r.cur] = cp
	if r.proto == 3 {
		r.hello(line, cp, "3")
	}
	return cp
}

// hello sends HELLO proto on both sides; the contents differ by design, so
// only the reply type is compared.
func (r *diffRunner) hello(line int, cp *connPair, proto string) {
	raws := r.doPair(line, cp, []string{"HELLO", proto})
	if raws[0][0] != raws[1][0] || raws[0][0] == '-' {
		r.t.Fatalf("%s:%d: HELLO %s answered\n  %-10s %s\n  %-10s %s", r.script, line, proto,
			r.servers[0].name+":", readable(raws[0]), r.servers[1].name+":", readable(raws[1]))
	}
}

// closeAll closes every connection.
func (r *diffRunner) closeAll() {
	for _, cp := range r.conns {
		for _, c := range cp.c {
			_ = c.Close()
		}
	}
}

// flushAll empties both servers.
func (r *diffRunner) flushAll() {
	for _, p := range r.servers {
		c, err := dialRaw(p.addr)
		if err != nil {
			r.t.Fatalf("flush %s: %v", p.name, err)
		}
		raw, err := c.do([]string{"FLUSHALL"}, replyTimeout)
		_ = c.Close()
		if err != nil || string(raw) != "+OK\r\n" {
			r.t.Fatalf("FLUSHALL on %s = %q, %v; want +OK", p.name, raw, err)
		}
	}
}

// doPair sends cmd on both sides of cp and reads both replies.
func (r *diffRunner) doPair(line int, cp *connPair, cmd []string) [2][]byte {
	var raws [2][]byte
	for i, c := range cp.c {
		raw, err := c.do(cmd, replyTimeout)
		if err != nil {
			r.t.Fatalf("%s:%d: %s on %s: %v (read so far %q)", r.script, line, showCmd(cmd), r.servers[i].name, err, raw)
		}
		raws[i] = raw
	}
	return raws
}

// run executes one step.
func (r *diffRunner) run(st scriptStep) {
	switch st.dir {
	case "", "sort", "shape", "ignore", "expect", "elapsed":
		r.command(st)
	case "repeat":
		r.repeat(st)
	case "raw":
		r.raw(st)
	case "resp":
	case "conn":
		r.cur = st.arg
	case "proto":
		r.hello(st.line, r.conn(st.line), st.arg)
	case "send":
		cp := r.conn(st.line)
		for i, c := range cp.c {
			if err := c.send(st.cmd); err != nil {
				r.t.Fatalf("%s:%d: send to %s: %v", r.script, st.line, r.servers[i].name, err)
			}
		}
		cp.pending++
	case "recv":
		r.recv(st)
	case "blocked":
		r.waitBlocked(st)
	case "scan":
		r.scan(st)
	case "sleep":
		d, err := time.ParseDuration(st.arg)
		if err != nil {
			r.t.Fatalf("%s:%d: @sleep: %v", r.script, st.line, err)
		}
		time.Sleep(d)
	default:
		r.t.Fatalf("%s:%d: unhandled directive @%s", r.script, st.line, st.dir)
	}
}

// command runs a command step and compares the replies as the directive says.
func (r *diffRunner) command(st scriptStep) {
	cp := r.conn(st.line)
	if cp.pending > 0 {
		r.t.Fatalf("%s:%d: command on connection %s while %d @send replies are unread", r.script, st.line, r.cur, cp.pending)
	}
	start := time.Now()
	var raws [2][]byte
	var took [2]time.Duration
	for i, c := range cp.c {
		raw, err := c.do(st.cmd, replyTimeout)
		if err != nil {
			r.t.Fatalf("%s:%d: %s on %s: %v (read so far %q)", r.script, st.line, showCmd(st.cmd), r.servers[i].name, err, raw)
		}
		raws[i], took[i] = raw, time.Since(start)
		start = time.Now()
	}
	if os.Getenv("STREAMRAFT_DIFF_LOG") != "" {
		r.t.Logf("%s:%d: %s -> %s", r.script, st.line, showCmd(st.cmd), readable(raws[0]))
	}
	if strings.EqualFold(st.cmd[0], "QUIT") {
		r.closeCurrent()
	}
	switch st.dir {
	case "":
		r.compare(st, raws[0], raws[1], "")
	case "sort":
		r.compareParsed(st, raws, "sorted", func(v value) string { return string(v.sorted().bytes()) })
	case "shape":
		r.compareParsed(st, raws, "shape", value.shape)
	case "expect":
		r.expect(st, raws)
	case "elapsed":
		r.compare(st, raws[0], raws[1], "")
		r.checkElapsed(st, took)
	}
}

// repeat runs a @repeat step.
func (r *diffRunner) repeat(st scriptStep) {
	n, err := strconv.Atoi(st.arg)
	if err != nil {
		r.t.Fatalf("%s:%d: @repeat %q: %v", r.script, st.line, st.arg, err)
	}
	for i := 1; i <= n; i++ {
		one := scriptStep{line: st.line, cmd: make([]string, len(st.cmd))}
		for j, a := range st.cmd {
			one.cmd[j] = strings.ReplaceAll(a, "{i}", strconv.Itoa(i))
		}
		r.command(one)
	}
}

// raw sends bytes as they are and compares the next N replies.
func (r *diffRunner) raw(st scriptStep) {
	n, err := strconv.Atoi(st.arg)
	if err != nil || len(st.cmd) != 1 {
		r.t.Fatalf("%s:%d: want @raw N BYTES", r.script, st.line)
	}
	cp := r.conn(st.line)
	var raws [2][]byte
	for i, c := range cp.c {
		if _, err := c.c.Write([]byte(st.cmd[0])); err != nil {
			r.t.Fatalf("%s:%d: @raw write to %s: %v", r.script, st.line, r.servers[i].name, err)
		}
		for j := 0; j < n; j++ {
			reply, err := c.recv(replyTimeout)
			if err != nil {
				r.t.Fatalf("%s:%d: @raw reply %d from %s: %v (read so far %q)", r.script, st.line, j+1, r.servers[i].name, err, reply)
			}
			raws[i] = append(raws[i], reply...)
		}
	}
	if os.Getenv("STREAMRAFT_DIFF_LOG") != "" {
		r.t.Logf("%s:%d: @raw %q -> %s", r.script, st.line, st.cmd[0], readable(raws[0]))
	}
	if strings.Contains(string(raws[0]), "Protocol error") {
		r.closeCurrent()
	}
	st.cmd = []string{"@raw", st.cmd[0]}
	r.compare(st, raws[0], raws[1], "")
}

// closeCurrent forgets the current connection (after QUIT).
func (r *diffRunner) closeCurrent() {
	if cp, ok := r.conns[r.cur]; ok {
		for _, c := range cp.c {
			_ = c.Close()
		}
		delete(r.conns, r.cur)
	}
}

// recv reads the reply of an earlier @send on both sides and compares them.
func (r *diffRunner) recv(st scriptStep) {
	cp := r.conn(st.line)
	if cp.pending == 0 {
		r.t.Fatalf("%s:%d: @recv on connection %s without a pending @send", r.script, st.line, r.cur)
	}
	cp.pending--
	var raws [2][]byte
	for i, c := range cp.c {
		raw, err := c.recv(replyTimeout)
		if err != nil {
			r.t.Fatalf("%s:%d: @recv from %s: %v (read so far %q)", r.script, st.line, r.servers[i].name, err, raw)
		}
		raws[i] = raw
	}
	if os.Getenv("STREAMRAFT_DIFF_LOG") != "" {
		r.t.Logf("%s:%d: @recv -> %s", r.script, st.line, readable(raws[0]))
	}
	r.compare(st, raws[0], raws[1], "")
}

// compare reports a mismatch between two raw replies.
func (r *diffRunner) compare(st scriptStep, a, b []byte, how string) {
	if string(a) == string(b) {
		return
	}
	what := showCmd(st.cmd)
	if st.dir == "recv" {
		what = "@recv"
	}
	if how != "" {
		what += " (" + how + ")"
	}
	r.t.Errorf("%s:%d: %s differs\n  %-11s %s\n  %-11s %s", r.script, st.line, what,
		r.servers[0].name+":", readable(a), r.servers[1].name+":", readable(b))
}

// compareParsed compares the replies after a transformation.
func (r *diffRunner) compareParsed(st scriptStep, raws [2][]byte, how string, f func(value) string) {
	var out [2][]byte
	for i, raw := range raws {
		v, err := parseValue(raw)
		if err != nil {
			r.t.Fatalf("%s:%d: %s reply: %v", r.script, st.line, r.servers[i].name, err)
		}
		out[i] = []byte(f(v))
	}
	r.compare(st, out[0], out[1], how)
}

// expect checks the target's reply against the script's RAW; against a
// second redis the replies are compared as usual.
func (r *diffRunner) expect(st scriptStep, raws [2][]byte) {
	if r.targetIsRedis() {
		r.compare(st, raws[0], raws[1], "")
		return
	}
	if string(raws[1]) != st.arg {
		r.t.Errorf("%s:%d: %s = %s; want (@expect) %s  (redis: %s)", r.script, st.line, showCmd(st.cmd),
			readable(raws[1]), readable([]byte(st.arg)), readable(raws[0]))
	}
}

// checkElapsed verifies each side took at least the @elapsed duration.
func (r *diffRunner) checkElapsed(st scriptStep, took [2]time.Duration) {
	min, err := time.ParseDuration(st.arg)
	if err != nil {
		r.t.Fatalf("%s:%d: @elapsed: %v", r.script, st.line, err)
	}
	for i, d := range took {
		if d < min {
			r.t.Errorf("%s:%d: %s on %s took %v; want >= %v", r.script, st.line, showCmd(st.cmd), r.servers[i].name, d, min)
		}
	}
}

// showCmd renders a command for messages.
func showCmd(cmd []string) string {
	parts := make([]string, len(cmd))
	for i, a := range cmd {
		if a == "" || strings.ContainsAny(a, " \t\r\n\"'\\") {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// sortedUnique sorts keys and drops duplicates (SCAN may repeat a key).
func sortedUnique(keys []string) []string {
	sort.Strings(keys)
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			out = append(out, k)
		}
	}
	return out
}
