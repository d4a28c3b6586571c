package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster/clustertest"
)

// pauseHold is how long the leader stays stopped: many election timeouts
// (--raft-heartbeat-timeout is 300 ms), and longer than the writer's read
// timeout (4 s) on the command it sent to the frozen leader, so that the
// others elect a new leader and acknowledge its next writes meanwhile.
const pauseHold = 8 * time.Second

// TestPausedLeader stops a shard leader's process with SIGSTOP while
// clients write, then resumes it with SIGCONT. A paused process keeps
// believing it leads (its timers did not run); the test reads through it
// the moment it resumes: it must answer a redirect or a state that holds
// every write acknowledged meanwhile by the new leader, never its stale
// copy. No acknowledged write may be missing at the end.
func TestPausedLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process cluster test")
	}
	c := startProcsCluster(t)
	var seeds []string
	for _, p := range c.nodes {
		seeds = append(seeds, p.addr)
	}
	router := clustertest.NewRouter(seeds)
	defer router.Close()
	const key = "paused"
	var mu sync.Mutex
	acked := map[string]bool{}
	write := func(i int) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, out, err := router.Do(ctx, key, "XADD", key, "*", "i", strconv.Itoa(i))
		if out != clustertest.Applied || err != nil {
			return false
		}
		mu.Lock()
		acked[res.(string)] = true
		mu.Unlock()
		return true
	}
	for i := range 20 {
		if !write(i) {
			t.Fatalf("XADD %d before the pause failed", i)
		}
	}
	leader := c.leaderOf(t, key)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			write(i)
		}
	}()
	if err := leader.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (leader of %q) stopped", leader.name, key)
	time.Sleep(pauseHold) // the fault itself: a process frozen this long
	mu.Lock()
	during := len(acked)
	mu.Unlock()
	if err := leader.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	plain := redis.NewClient(&redis.Options{Addr: leader.addr, MaxRetries: -1, Protocol: 2})
	defer plain.Close()
	n, err := plain.XLen(context.Background(), key).Result()
	switch {
	case err != nil && strings.HasPrefix(err.Error(), "MOVED "):
		t.Logf("the resumed %s redirected the read: %v", leader.name, err)
	case err != nil:
		t.Logf("the resumed %s answered %v", leader.name, err)
	case int(n) < during:
		t.Errorf("the resumed %s answered XLEN %d; %d writes were acknowledged before it resumed: a stale read", leader.name, n, during)
	default:
		t.Logf("the resumed %s answered XLEN %d (%d acknowledged before it resumed)", leader.name, n, during)
	}
	if during <= 20 {
		t.Errorf("no write was acknowledged while %s was stopped", leader.name)
	}
	close(stop)
	wg.Wait()

	var msgs []redis.XMessage
	c.pollAll(t, "read the stream back", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, out, err := router.Do(ctx, key, "XRANGE", key, "-", "+")
		if out != clustertest.Applied || err != nil {
			return fmt.Errorf("XRANGE: %v", err)
		}
		msgs = msgs[:0]
		for _, e := range res.([]any) {
			msgs = append(msgs, redis.XMessage{ID: e.([]any)[0].(string)})
		}
		return nil
	})
	have := map[string]bool{}
	for _, m := range msgs {
		have[m.ID] = true
	}
	for id := range acked {
		if !have[id] {
			t.Errorf("acknowledged entry %s is missing", id)
		}
	}
	t.Logf("%d writes acknowledged across the pause, %d while %s was stopped", len(acked), during-20, leader.name)
}

// leaderOf is the process that leads key's shard, per CLUSTER SHARDS.
func (c *procsCluster) leaderOf(t testing.TB, key string) *process {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: c.nodes[0].addr, Protocol: 2})
	defer rc.Close()
	slot, err := rc.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	shards, err := rc.ClusterShards(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shards {
		for _, r := range s.Slots {
			if r.Start > slot || slot > r.End {
				continue
			}
			for _, n := range s.Nodes {
				if n.Role != "master" {
					continue
				}
				for _, p := range c.nodes {
					if p.addr == fmt.Sprintf("%s:%d", n.IP, n.Port) || p.addr == fmt.Sprintf("%s:%d", n.Endpoint, n.Port) {
						return p
					}
				}
			}
		}
	}
	t.Fatalf("no leader for %q in %+v", key, shards)
	return nil
}

// pollAll retries fn until it succeeds or procsFailoverTimeout passes.
func (c *procsCluster) pollAll(t testing.TB, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(procsFailoverTimeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v after %v", what, err, procsFailoverTimeout)
		}
		time.Sleep(procsRetryPause)
	}
}
