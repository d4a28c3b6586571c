package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster"
)

// Crash tests: run the real binary, write with go-redis remembering every
// acknowledged entry, stop the process (kill -9 mid-load, or SIGTERM), start
// it again on the same --data-dir and check every acknowledged entry is
// there, byte for byte.

const (
	// crashStartTimeout bounds a start: the process opens its stores,
	// elects itself (Raft's 1-2 s election timeout) and replays its log.
	crashStartTimeout = 30 * time.Second
	// crashStopTimeout bounds the wait for a process to exit after a signal.
	crashStopTimeout = 15 * time.Second
	// crashOpTimeout bounds one command.
	crashOpTimeout = 10 * time.Second
	crashWriters   = 8
	crashStreams   = 4
)

// crashServer is one run of the binary on fixed ports and a data dir.
type crashServer struct {
	bin, dir                 string
	addr, raftAddr, httpAddr string
	shards                   int      // --shards; 0 leaves the default (defaultShards)
	extra                    []string // more flags
	cmd                      *exec.Cmd
	out                      *lockedBuffer
	done                     chan struct{}
}

func newCrashServer(t *testing.T) *crashServer {
	return &crashServer{
		bin: buildBinary(t), dir: filepath.Join(t.TempDir(), "data"),
		addr: freeAddr(t), raftAddr: freeAddr(t), httpAddr: freeAddr(t),
	}
}

// start runs the binary and waits until /readyz says it serves.
func (s *crashServer) start(t *testing.T) {
	t.Helper()
	s.launch(t)
	deadline := time.Now().Add(crashStartTimeout)
	for {
		if s.ready() {
			return
		}
		select {
		case <-s.done:
			t.Fatalf("streamraft exited during start-up: %v\n%s", s.cmd.ProcessState, s.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("streamraft not ready after %v\n%s", crashStartTimeout, s.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// launch runs the binary without waiting for it.
func (s *crashServer) launch(t *testing.T) {
	t.Helper()
	s.out = new(lockedBuffer)
	s.done = make(chan struct{})
	s.cmd = exec.Command(s.bin, "--node-id", "crash1", "--data-dir", s.dir, "--addr", s.addr,
		"--raft-addr", s.raftAddr, "--http-addr", s.httpAddr, "--log-level", "warn",
		"--snapshot-threshold", "64", "--snapshot-interval", "50ms")
	if s.shards > 0 {
		s.cmd.Args = append(s.cmd.Args, "--shards", fmt.Sprint(s.shards))
	}
	s.cmd.Args = append(s.cmd.Args, s.extra...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.bin, err)
	}
	cmd, done := s.cmd, s.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
}

func (s *crashServer) ready() bool {
	res, err := http.Get("http://" + s.httpAddr + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func (s *crashServer) status(t *testing.T) cluster.NodeStatus {
	t.Helper()
	res, err := http.Get("http://" + s.httpAddr + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer res.Body.Close()
	var st cluster.NodeStatus
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || len(st.Shards) != s.wantShards() {
		t.Fatalf("GET /status = %+v, %v; want %d shard(s)", st, err, s.wantShards())
	}
	return st
}

// signal sends sig and waits for the process to exit.
// wantShards is how many shards the server runs: --shards, or the default.
func (s *crashServer) wantShards() int {
	if s.shards > 0 {
		return s.shards
	}
	return defaultShards
}

func (s *crashServer) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-s.done:
	case <-time.After(crashStopTimeout):
		t.Fatalf("streamraft still running %v after %v\n%s", crashStopTimeout, sig, s.out)
	}
	if sig == syscall.SIGTERM && !s.cmd.ProcessState.Success() {
		t.Fatalf("after SIGTERM streamraft exited with %v; want 0\n%s", s.cmd.ProcessState, s.out)
	}
}

func (s *crashServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, PoolSize: crashWriters,
		ReadTimeout: crashOpTimeout, WriteTimeout: crashOpTimeout})
}

// acked remembers every acknowledged XADD: stream -> ID -> fields.
type acked struct {
	mu sync.Mutex
	m  map[string]map[string]map[string]string
	n  int
}

func (a *acked) add(stream, id string, fields map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = make(map[string]map[string]map[string]string)
	}
	if a.m[stream] == nil {
		a.m[stream] = make(map[string]map[string]string)
	}
	a.m[stream][id] = fields
	a.n++
}

func (a *acked) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// load runs crashWriters writers until stop closes or a write fails (the
// server died); it returns when all have stopped.
func load(t *testing.T, c *redis.Client, a *acked, stop <-chan struct{}) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				stream := fmt.Sprintf("crash%d", (w+i)%crashStreams)
				fields := map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i),
					"data": fmt.Sprintf("%d-%d-\x00\xff\r\n", w, i)}
				ctx, cancel := context.WithTimeout(context.Background(), crashOpTimeout)
				id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream,
					Values: []string{"w", fields["w"], "i", fields["i"], "data", fields["data"]}}).Result()
				cancel()
				if err != nil {
					return
				}
				a.add(stream, id, fields)
			}
		})
	}
	wg.Wait()
}

// verify checks every acknowledged entry is stored with its exact fields.
func verify(t *testing.T, c *redis.Client, a *acked) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), crashOpTimeout)
	defer cancel()
	for stream, want := range a.m {
		msgs, err := c.XRange(ctx, stream, "-", "+").Result()
		if err != nil {
			t.Fatalf("XRANGE %s - +: %v", stream, err)
		}
		got := make(map[string]map[string]any, len(msgs))
		for _, m := range msgs {
			got[m.ID] = m.Values
		}
		missing := 0
		for id, fields := range want {
			vals, ok := got[id]
			if !ok {
				missing++
				continue
			}
			for k, v := range fields {
				if vals[k] != v {
					t.Errorf("XRANGE %s: entry %s field %q = %q; want %q", stream, id, k, vals[k], v)
				}
			}
		}
		if missing > 0 {
			t.Errorf("XRANGE %s: %d of %d acknowledged entries missing", stream, missing, len(want))
		}
	}
}

func TestCrashRecovery(t *testing.T) {
	tests := []struct {
		name string
		// stop ends the first run: it is called while the writers run.
		stop func(t *testing.T, s *crashServer, a *acked, stopLoad func())
	}{
		{"kill -9 mid-load", func(t *testing.T, s *crashServer, a *acked, _ func()) {
			waitAcked(t, a, 2000)
			s.signal(t, syscall.SIGKILL)
		}},
		{"SIGTERM mid-load", func(t *testing.T, s *crashServer, a *acked, _ func()) {
			// Graceful: in-flight commands are answered, then the process
			// exits 0; everything answered must be on disk.
			waitAcked(t, a, 1000)
			s.signal(t, syscall.SIGTERM)
		}},
		{"snapshot and tail", func(t *testing.T, s *crashServer, a *acked, stopLoad func()) {
			waitAcked(t, a, 500)
			deadline := time.Now().Add(crashStartTimeout)
			for s.status(t).Shards[0].LastSnapshotIndex == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no snapshot after %v", crashStartTimeout)
				}
				time.Sleep(20 * time.Millisecond)
			}
			n := a.count()
			waitAcked(t, a, n+20) // a tail after the snapshot
			stopLoad()
			if st := s.status(t).Shards[0]; st.CommitIndex <= st.LastSnapshotIndex {
				t.Fatalf("commit index %d <= snapshot index %d: no tail", st.CommitIndex, st.LastSnapshotIndex)
			}
			s.signal(t, syscall.SIGKILL)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCrashServer(t)
			// One shard: the point is durability, and "snapshot and tail"
			// watches shard 0's snapshots (crash_shards_test.go shards).
			s.shards = 1
			s.start(t)
			c := s.client()
			var a acked
			stopCh := make(chan struct{})
			var once sync.Once
			stopLoad := func() { once.Do(func() { close(stopCh) }) }
			loaded := make(chan struct{})
			go func() {
				defer close(loaded)
				load(t, c, &a, stopCh)
			}()
			tc.stop(t, s, &a, stopLoad)
			stopLoad()
			<-loaded
			c.Close()
			t.Logf("%d entries acknowledged before the stop", a.count())

			s.start(t)
			c = s.client()
			defer c.Close()
			verify(t, c, &a)
			// The restarted server goes on taking writes.
			ctx, cancel := context.WithTimeout(context.Background(), crashOpTimeout)
			defer cancel()
			if _, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "crash0", Values: []string{"after", "restart"}}).Result(); err != nil {
				t.Errorf("XADD after restart: %v", err)
			}
		})
	}
}

// waitAcked waits until at least n writes were acknowledged.
func waitAcked(t *testing.T, a *acked, n int) {
	t.Helper()
	deadline := time.Now().Add(crashStartTimeout)
	for a.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes acknowledged after %v; want %d", a.count(), crashStartTimeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
