package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// startTimeout bounds the server's start: Raft elects its one voter in
	// about a second.
	startTimeout = 30 * time.Second
	// testDeadline bounds each test's work once the server is up.
	testDeadline = 30 * time.Second
)

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects the server's output for a failing test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startStreamraft builds ../streamraft, starts it on free ports with a
// fresh data directory, and returns a client once it answers PING.
func startStreamraft(t *testing.T) *redis.Client {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "streamraft")
	if out, err := exec.Command("go", "build", "-o", bin, "../streamraft").CombinedOutput(); err != nil {
		t.Fatalf("build streamraft: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--addr", addr, "--raft-addr", freeAddr(t), "--http-addr", freeAddr(t),
		"--data-dir", filepath.Join(t.TempDir(), "data"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start streamraft: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("streamraft output:\n%s", out.String())
		}
	})
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(startTimeout)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("streamraft did not answer PING within %v\n%s", startTimeout, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// poll retries cond until it holds or the deadline passes.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerAcksJobs: the worker handles and acknowledges new jobs, claims
// the jobs a dead consumer left pending, and stops gracefully on cancel.
func TestWorkerAcksJobs(t *testing.T) {
	c := startStreamraft(t)
	ctx := context.Background()
	// A job a "dead" consumer took and never acknowledged.
	if err := c.XGroupCreateMkStream(ctx, "jobs", "workers", "0").Err(); err != nil {
		t.Fatalf("XGROUP CREATE: %v", err)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: []string{"job", "orphan"}}).Err(); err != nil {
		t.Fatalf("XADD: %v", err)
	}
	if err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "dead",
		Streams: []string{"jobs", ">"}, Block: -1}).Err(); err != nil {
		t.Fatalf("XREADGROUP as the dead consumer: %v", err)
	}

	cfg := config{addr: c.Options().Addr, stream: "jobs", group: "workers", consumer: "w1",
		minIdle: 200 * time.Millisecond, block: 100 * time.Millisecond, count: 10}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, cfg, slog.New(slog.DiscardHandler)) }()

	const n = 5
	for i := range n {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: []string{"job", strconv.Itoa(i)}}).Err(); err != nil {
			t.Fatalf("XADD: %v", err)
		}
	}
	poll(t, "every job delivered and acknowledged", func() bool {
		groups, err := c.XInfoGroups(ctx, "jobs").Result()
		return err == nil && len(groups) == 1 && groups[0].EntriesRead == n+1 && groups[0].Pending == 0
	})
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v; want nil", err)
		}
	case <-time.After(testDeadline):
		t.Fatal("run did not return after cancel")
	}
	consumers, err := c.XInfoConsumers(ctx, "jobs", "workers").Result()
	if err != nil {
		t.Fatalf("XINFO CONSUMERS: %v", err)
	}
	names := map[string]int64{}
	for _, cs := range consumers {
		names[cs.Name] = cs.Pending
	}
	if p, ok := names["w1"]; !ok || p != 0 || names["dead"] != 0 {
		t.Errorf("consumers %v; want w1 and dead, nothing pending", names)
	}
}

// TestWorkerSimulatedCrash: with --fail-rate 1 run returns errCrash and
// leaves the job pending, unacknowledged.
func TestWorkerSimulatedCrash(t *testing.T) {
	c := startStreamraft(t)
	ctx := context.Background()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: []string{"job", "x"}}).Err(); err != nil {
		t.Fatalf("XADD: %v", err)
	}
	cfg := config{addr: c.Options().Addr, stream: "jobs", group: "workers", consumer: "w1",
		minIdle: time.Minute, block: 100 * time.Millisecond, count: 10, failRate: 1}
	runCtx, cancel := context.WithTimeout(ctx, testDeadline)
	defer cancel()
	if err := run(runCtx, cfg, slog.New(slog.DiscardHandler)); !errors.Is(err, errCrash) {
		t.Fatalf("run = %v; want errCrash", err)
	}
	p, err := c.XPending(ctx, "jobs", "workers").Result()
	if err != nil || p.Count != 1 || p.Consumers["w1"] != 1 {
		t.Errorf("XPENDING = %+v, %v; want the job pending for w1", p, err)
	}
}
