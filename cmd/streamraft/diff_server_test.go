package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/streamraft/streamraft/cluster/clustertest"
)

// Timing constants for the processes the tests start.
const (
	// startTimeout bounds how long a server may take to answer PING: Raft
	// elects itself leader of a one-voter group in about a second.
	startTimeout = 30 * time.Second
	// stopTimeout is how long a SIGTERMed process may take to exit before it
	// is killed.
	stopTimeout = 10 * time.Second
	// outputTail is how much of a server's log a failed test shows.
	outputTail = 4096
)

// freeAddr returns a loopback address with a port that was free a moment ago
// and that no earlier call in this test binary returned (the harness's
// registry: one server given the same port twice refuses to start).
func freeAddr(t testing.TB) string {
	t.Helper()
	return clustertest.FreeAddr(t)
}

// requireRedis returns the path of redis-server, skipping the test when it is
// missing outside CI and failing it when CI is set (CI must run the test).
func requireRedis(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("redis-server not on PATH and CI=%s: the differential tests must run in CI", os.Getenv("CI"))
	}
	t.Skip("redis-server not on PATH: skipping the differential test (install redis-server, or run .ci/run)")
	return ""
}

// process is a server the test started; it is stopped by t.Cleanup.
type process struct {
	name string
	addr string
	bin  string   // what relaunch runs
	args []string // with these arguments
	cmd  *exec.Cmd
	out  *lockedBuffer // combined stdout and stderr
	done chan struct{}
}

// startRedis starts a throw-away redis-server on a free port.
func startRedis(t testing.TB) *process {
	t.Helper()
	bin := requireRedis(t)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	return startProcess(t, "redis", addr, bin,
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", t.TempDir(), "--logfile", "")
}

// clusterTimeout bounds how long a cluster-mode redis-server may take to
// report cluster_state:ok once it owns every slot.
const clusterTimeout = 10 * time.Second

// startRedisCluster starts a throw-away redis-server in cluster mode on a
// free port, gives it all 16384 slots and waits until CLUSTER INFO reports
// cluster_state:ok: a one-node Redis Cluster, the reference for streamraft.
func startRedisCluster(t testing.TB) *process {
	t.Helper()
	bin := requireRedis(t)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	p := startProcess(t, "redis", addr, bin,
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", dir, "--logfile", "",
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"))
	if err := p.claimAllSlots(clusterTimeout); err != nil {
		t.Fatalf("redis cluster on %s: %v\noutput:\n%s", addr, err, p.out.String())
	}
	return p
}

// claimAllSlots assigns every slot to the node and polls CLUSTER INFO until
// cluster_state:ok or the deadline.
func (p *process) claimAllSlots(timeout time.Duration) error {
	rc, err := dialRaw(p.addr)
	if err != nil {
		return err
	}
	defer rc.Close()
	raw, err := rc.do([]string{"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}, time.Second)
	if err != nil || string(raw) != "+OK\r\n" {
		return fmt.Errorf("CLUSTER ADDSLOTSRANGE 0 16383 = %q, %v; want +OK", raw, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		raw, err = rc.do([]string{"CLUSTER", "INFO"}, time.Second)
		if err != nil {
			return fmt.Errorf("CLUSTER INFO: %w", err)
		}
		if bytes.Contains(raw, []byte("cluster_state:ok")) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CLUSTER INFO = %q after %v; want cluster_state:ok", raw, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startStreamraft starts the streamraft binary on free ports with a fresh
// data directory; extra flags (e.g. --shards 16) follow the defaults.
func startStreamraft(t testing.TB, bin string, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"--addr", addr, "--raft-addr", freeAddr(t), "--http-addr", freeAddr(t),
		"--data-dir", filepath.Join(t.TempDir(), "data")}, extra...)
	return startProcess(t, "streamraft", addr, bin, args...)
}

// startProcess runs bin with args, waits until addr answers PING and
// registers a cleanup that stops it.
func startProcess(t testing.TB, name, addr, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, addr: addr, cmd: exec.Command(bin, args...),
		out: new(lockedBuffer), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output (last %d bytes):\n%s", name, outputTail, p.out.Tail(outputTail))
		}
		p.stop(t)
	})
	if err := p.waitPing(startTimeout); err != nil {
		t.Fatalf("%s did not answer PING on %s: %v\noutput:\n%s", name, addr, err, p.out.String())
	}
	return p
}

// waitPing polls PING until +PONG or the deadline.
func (p *process) waitPing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("process exited: %v", p.cmd.ProcessState)
		default:
		}
		last = pingOnce(p.addr)
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v: %w", timeout, last)
}

// pingOnce dials addr and expects +PONG.
func pingOnce(addr string) error {
	rc, err := dialRaw(addr)
	if err != nil {
		return err
	}
	defer rc.Close()
	raw, err := rc.do([]string{"PING"}, time.Second)
	if err != nil {
		return err
	}
	if string(raw) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", raw)
	}
	return nil
}

// stop sends SIGTERM, waits, then kills.
func (p *process) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Logf("%s did not exit %v after SIGTERM; killing it", p.name, stopTimeout)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// lockedBuffer is the harness's buffer, safe for the exec copier and the
// test.
type lockedBuffer = clustertest.LockedBuffer
