package main

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/streamraft/streamraft/cluster/clustertest"
)

// BenchmarkFailover measures, on three real processes with the default
// Raft timeouts, the time from kill -9 of a shard's leader to the first
// write acknowledged through its new leader, as a client that follows
// redirects sees it (clustertest.Router: MOVED, TRYAGAIN and refused
// connections are retried every 50 ms). Each iteration is one trial: a
// new key, its leader killed, the first acknowledged write timed, the
// killed node restarted and caught up. It reports the median and the
// maximum over the trials (b.N of them):
//
//	go test -run '^$' -bench Failover -benchtime 20x ./cmd/streamraft
func BenchmarkFailover(b *testing.B) {
	c := startProcsCluster(b)
	var seeds []string
	for _, p := range c.nodes {
		seeds = append(seeds, p.addr)
	}
	router := clustertest.NewRouter(seeds)
	defer router.Close()
	write := func(key string) error {
		ctx, cancel := context.WithTimeout(context.Background(), procsFailoverTimeout)
		defer cancel()
		_, out, err := router.Do(ctx, key, "XADD", key, "*", "f", "v")
		if out != clustertest.Applied || err != nil {
			return fmt.Errorf("XADD %s: %v (outcome %d)", key, err, out)
		}
		return nil
	}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		key := fmt.Sprintf("failover-%d", i)
		if err := write(key); err != nil {
			b.Fatal(err)
		}
		victim := c.leaderOf(b, key)
		b.StartTimer()
		start := time.Now()
		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		<-victim.done
		if err := write(key); err != nil {
			b.Fatalf("trial %d: no write acknowledged after the kill: %v", i, err)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		victim.relaunch(b)
		if err := victim.waitPing(procsFormTimeout); err != nil {
			b.Fatalf("%s did not come back: %v", victim.name, err)
		}
		c.waitCaughtUp(b)
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("kill -9 of a shard leader to the first acknowledged write, %d trials: median %v, max %v, all %v",
		len(took), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), took)
}

// waitCaughtUp waits until every node is ready again (every shard has a
// leader it knows, its own replicas open).
func (c *procsCluster) waitCaughtUp(t testing.TB) {
	t.Helper()
	c.pollAll(t, "every node ready", func() error {
		for _, p := range c.nodes {
			if err := pingOnce(p.addr); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
		return nil
	})
}
