package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestCluster3 runs three nodes in one process: formation whatever the
// start order, redirects from followers, go-redis ClusterClient over 1000
// keys spread over every slot, a leader killed under load with no
// acknowledged write lost, a restart that catches up, and a node rebuilt
// from an empty disk.
func TestCluster3(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := newTestCluster(t, 3, 8)
	c.node("n3").cfg.Proxy = true
	c.startAll()
	c.waitUntil("formation", func() string { return c.settled(3) })

	// Every shard has three voters, so once its leader has committed an
	// entry, its batches may wait for the callers they answered.
	probe := c.client()
	for _, sh := range c.running()[0].srv.node.Status().Shards {
		for i := 0; ; i++ {
			key := fmt.Sprintf("probe:%d", i)
			if slot := keySlot([]byte(key)); slot < sh.SlotLo || slot > sh.SlotHi {
				continue
			}
			if err := probe.XAdd(context.Background(), &redis.XAddArgs{Stream: key, Values: []string{"f", "v"}}).Err(); err != nil {
				t.Fatalf("XADD %s (shard %s): %v", key, sh.ID, err)
			}
			break
		}
	}
	c.waitUntil("group commit sees the shards replicated", func() string {
		for _, nd := range c.running() {
			for _, sh := range nd.srv.node.Status().Shards {
				if sh.Leader && !sh.Replicated {
					return fmt.Sprintf("%s: shard %s led here, not marked replicated", nd.id, sh.ID)
				}
			}
		}
		return ""
	})

	t.Run("moved from followers", func(t *testing.T) {
		leader := c.leaderOf("orders")
		slot := keySlot([]byte("orders"))
		for _, nd := range c.running() {
			got := rawCommand(t, nd.cfg.Addr, "XADD", "orders", "*", "f", "v")
			if nd == leader {
				if strings.HasPrefix(got, "-") {
					t.Errorf("leader %s answered %q", nd.id, got)
				}
				continue
			}
			if nd.cfg.Proxy {
				if strings.HasPrefix(got, "-") {
					t.Errorf("proxying %s answered %q", nd.id, got)
				}
				continue
			}
			if want := fmt.Sprintf("-MOVED %d %s", slot, leader.cfg.Advertise); got != want {
				t.Errorf("follower %s answered %q; want %q", nd.id, got, want)
			}
		}
	})

	cc := c.client()
	ctx := context.Background()
	t.Run("cluster client over 1000 keys", func(t *testing.T) {
		clusterClientRoundTrip(ctx, t, cc, 1000)
	})

	t.Run("proxy for a plain client", func(t *testing.T) {
		plain := redis.NewClient(&redis.Options{Addr: c.node("n3").cfg.Addr})
		defer plain.Close()
		for i := range 100 {
			key := fmt.Sprintf("plain-%d", i)
			if err := plain.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "5-5", Values: []string{"i", fmt.Sprint(i)}}).Err(); err != nil {
				t.Fatalf("XADD %s through the proxy: %v", key, err)
			}
			if n, err := cc.XLen(ctx, key).Result(); err != nil || n != 1 {
				t.Fatalf("XLEN %s from the cluster client = %d, %v", key, n, err)
			}
		}
		// A blocking read forwarded to the leader, woken by a write there.
		got := make(chan []redis.XStream, 1)
		go func() {
			res, _ := plain.XRead(ctx, &redis.XReadArgs{Streams: []string{"plain-wake", "$"}, Block: 10 * time.Second}).Result()
			got <- res
		}()
		time.Sleep(200 * time.Millisecond)
		if err := cc.XAdd(ctx, &redis.XAddArgs{Stream: "plain-wake", ID: "7-7", Values: []string{"f", "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
		if res := <-got; len(res) != 1 || len(res[0].Messages) != 1 || res[0].Messages[0].ID != "7-7" {
			t.Fatalf("blocked XREAD through the proxy got %v", res)
		}
	})

	t.Run("leader killed under load", func(t *testing.T) {
		var acked ackLog
		stop := make(chan struct{})
		var wg sync.WaitGroup
		writeLoad(cc, &acked, stop, &wg)
		time.Sleep(500 * time.Millisecond)
		victim := c.leaderOf("load-0")
		c.kill(victim)
		before := acked.total()
		c.waitUntil("writes after the kill", func() string {
			if acked.total() < before+200 {
				return fmt.Sprintf("%d writes acknowledged since the kill", acked.total()-before)
			}
			return ""
		})
		c.restart(victim, false)
		time.Sleep(300 * time.Millisecond)
		close(stop)
		wg.Wait()
		checkAcked(t, cc, &acked)
		c.waitUntil("catch-up after restart", func() string { return c.settled(3) })
		checkCaughtUp(t, c)
		t.Logf("%d writes acknowledged across the kill and restart of %s", acked.total(), victim.id)
	})

	t.Run("empty disk rebuild", func(t *testing.T) {
		nd := c.running()[2]
		c.kill(nd)
		c.restart(nd, true)
		c.waitUntil("rebuild", func() string { return c.settled(3) })
		checkCaughtUp(t, c)
	})
}

// clusterClientRoundTrip drives XADD, XRANGE, XGROUP, XREADGROUP and XACK
// over n keys through cc.
func clusterClientRoundTrip(ctx context.Context, t *testing.T, cc *redis.ClusterClient, n int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprintf("key-%d", i)
		if _, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "1-1", Values: []string{"n", fmt.Sprint(i)}}).Result(); err != nil {
			t.Fatalf("XADD %s: %v", key, err)
		}
	}
	for i := range n {
		key := fmt.Sprintf("key-%d", i)
		msgs, err := cc.XRange(ctx, key, "-", "+").Result()
		if err != nil || len(msgs) != 1 || msgs[0].Values["n"] != fmt.Sprint(i) {
			t.Fatalf("XRANGE %s = %v, %v", key, msgs, err)
		}
		if err := cc.XGroupCreate(ctx, key, "g", "0").Err(); err != nil {
			t.Fatalf("XGROUP CREATE %s: %v", key, err)
		}
		got, err := cc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{key, ">"}, Count: 10}).Result()
		if err != nil || len(got) != 1 || len(got[0].Messages) != 1 || got[0].Messages[0].ID != "1-1" {
			t.Fatalf("XREADGROUP %s = %v, %v", key, got, err)
		}
		if acked, err := cc.XAck(ctx, key, "g", "1-1").Result(); err != nil || acked != 1 {
			t.Fatalf("XACK %s = %d, %v", key, acked, err)
		}
	}
}

// checkCaughtUp: every running replica of a shard has applied what its
// leader applied when the check began.
func checkCaughtUp(t *testing.T, c *testCluster) {
	t.Helper()
	c.waitUntil("replicas caught up", func() string {
		leaders := map[string]uint64{}
		for _, nd := range c.running() {
			for _, s := range nd.srv.node.Status().Shards {
				if s.Leader {
					leaders[s.ID] = s.RaftApplied
				}
			}
		}
		for _, nd := range c.running() {
			for _, s := range nd.srv.node.Status().Shards {
				if s.RaftApplied < leaders[s.ID] {
					return fmt.Sprintf("%s shard %s applied %d < leader's %d", nd.id, s.ID, s.RaftApplied, leaders[s.ID])
				}
			}
		}
		return ""
	})
}
