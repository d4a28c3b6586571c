package clustertest_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster/clustertest"
	"github.com/streamraft/streamraft/fsm"
)

// rawTimeout bounds one raw command in these tests.
const rawTimeout = 5 * time.Second

// TestCluster3 runs three nodes in one process: formation whatever the
// start order, redirects from followers, go-redis ClusterClient over 1000
// keys spread over every slot, a leader killed under load with no
// acknowledged write lost, a restart that catches up, and a node rebuilt
// from an empty disk.
func TestCluster3(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 3, 8)
	c.Node("n3").Cfg.Proxy = true
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(3) })

	// Every shard has three voters, so once its leader has committed an
	// entry, its batches may wait for the callers they answered.
	probe := c.Client()
	for _, sh := range c.Running()[0].Srv.Node().Status().Shards {
		for i := 0; ; i++ {
			key := fmt.Sprintf("probe:%d", i)
			if slot := fsm.KeySlot([]byte(key)); slot < sh.SlotLo || slot > sh.SlotHi {
				continue
			}
			if err := probe.XAdd(context.Background(), &redis.XAddArgs{Stream: key, Values: []string{"f", "v"}}).Err(); err != nil {
				t.Fatalf("XADD %s (shard %s): %v", key, sh.ID, err)
			}
			break
		}
	}
	c.WaitUntil("group commit sees the shards replicated", func() string {
		for _, nd := range c.Running() {
			for _, sh := range nd.Srv.Node().Status().Shards {
				if sh.Leader && !sh.Replicated {
					return fmt.Sprintf("%s: shard %s led here, not marked replicated", nd.ID, sh.ID)
				}
			}
		}
		return ""
	})

	t.Run("moved from followers", func(t *testing.T) {
		leader := c.LeaderOf("orders")
		slot := fsm.KeySlot([]byte("orders"))
		for _, nd := range c.Running() {
			got := clustertest.RawCommand(nd.Cfg.Addr, rawTimeout, "XADD", "orders", "*", "f", "v")
			if nd == leader {
				if strings.HasPrefix(got, "-") {
					t.Errorf("leader %s answered %q", nd.ID, got)
				}
				continue
			}
			if nd.Cfg.Proxy {
				if strings.HasPrefix(got, "-") {
					t.Errorf("proxying %s answered %q", nd.ID, got)
				}
				continue
			}
			if want := fmt.Sprintf("-MOVED %d %s", slot, leader.Cfg.Advertise); got != want {
				t.Errorf("follower %s answered %q; want %q", nd.ID, got, want)
			}
		}
	})

	cc := c.Client()
	ctx := context.Background()
	t.Run("cluster client over 1000 keys", func(t *testing.T) {
		clusterClientRoundTrip(ctx, t, cc, 1000)
	})

	t.Run("proxy for a plain client", func(t *testing.T) {
		n3 := c.Node("n3")
		plain := redis.NewClient(&redis.Options{Addr: n3.Cfg.Addr})
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
		c.WaitUntil("the XREAD blocked on n3", blockedOn(n3))
		if err := cc.XAdd(ctx, &redis.XAddArgs{Stream: "plain-wake", ID: "7-7", Values: []string{"f", "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
		if res := <-got; len(res) != 1 || len(res[0].Messages) != 1 || res[0].Messages[0].ID != "7-7" {
			t.Fatalf("blocked XREAD through the proxy got %v", res)
		}
	})

	t.Run("leader killed under load", func(t *testing.T) {
		var acked clustertest.AckLog
		stop := make(chan struct{})
		var wg sync.WaitGroup
		clustertest.WriteLoad(cc, &acked, stop, &wg)
		c.WaitUntil("writes before the kill", atLeast(&acked, 200))
		victim := c.LeaderOf("load-0")
		c.Kill(victim)
		c.WaitUntil("writes after the kill", atLeast(&acked, acked.Total()+200))
		c.Restart(victim, false)
		c.WaitUntil("writes after the restart", atLeast(&acked, acked.Total()+200))
		close(stop)
		wg.Wait()
		clustertest.CheckAcked(t, cc, &acked)
		c.WaitUntil("catch-up after restart", func() string { return c.Settled(3) })
		c.WaitUntil("replicas caught up", c.CaughtUp())
		t.Logf("%d writes acknowledged across the kill and restart of %s", acked.Total(), victim.ID)
	})

	t.Run("empty disk rebuild", func(t *testing.T) {
		nd := c.Running()[2]
		c.Kill(nd)
		c.Restart(nd, true)
		c.WaitUntil("rebuild", func() string {
			if s := c.Settled(3); s != "" {
				return s
			}
			return c.Rebuilt(nd)
		})
		c.WaitUntil("replicas caught up", c.CaughtUp())
	})
}

// atLeast is a WaitUntil condition: acked holds at least n writes.
func atLeast(acked *clustertest.AckLog, n int) func() string {
	return func() string {
		if got := acked.Total(); got < n {
			return fmt.Sprintf("%d writes acknowledged, waiting for %d", got, n)
		}
		return ""
	}
}

// blockedOn is a WaitUntil condition: nd has a client blocked in a
// command (INFO clients' blocked_clients).
func blockedOn(nd *clustertest.Node) func() string {
	return func() string {
		rc := redis.NewClient(&redis.Options{Addr: nd.Cfg.Addr})
		defer rc.Close()
		info, err := rc.Info(context.Background(), "clients").Result()
		if err != nil {
			return "INFO: " + err.Error()
		}
		if !strings.Contains(info, "blocked_clients:1") {
			return "no client blocked"
		}
		return ""
	}
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

// TestClusterScale grows a 3-node cluster to 5 while clients write: the
// new nodes are registered, shard replicas move onto them (add a voter,
// let it catch up, remove the old one) until they are spread evenly, and
// the new nodes take their share of leaderships. Then CLUSTER FORGET
// drains the two new nodes back out one at a time. Every acknowledged
// write is readable at the end.
func TestClusterScale(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 3, 8)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(3) })
	cc := c.Client()
	var acked clustertest.AckLog
	stop := make(chan struct{})
	var wg sync.WaitGroup
	clustertest.WriteLoad(cc, &acked, stop, &wg)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	c.Add("n4")
	c.Add("n5")
	c.WaitUntil("scale-out to 5 nodes", func() string { return c.Settled(5) })
	if got := clustertest.IDs(c.Running()); !slices.Equal(got, []string{"n1", "n2", "n3", "n4", "n5"}) {
		t.Fatalf("running %v", got)
	}
	t.Logf("scaled out to 5 nodes; %d writes acknowledged so far", acked.Total())

	// A client blocked on a shard n5 leads gets redirected when the drain
	// hands that leadership away.
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("blocked-%d", i); c.LeaderOf(k).ID == "n5" {
			key = k
		}
	}
	n5 := c.Node("n5")
	blocked := make(chan string, 1)
	go func() {
		blocked <- clustertest.RawCommand(n5.Cfg.Addr, 60*time.Second, "XREAD", "BLOCK", "0", "STREAMS", key, "$")
	}()
	c.WaitUntil("the XREAD blocked on n5", blockedOn(n5))

	n1 := c.Node("n1")
	for _, id := range []string{"n5", "n4"} {
		if got := clustertest.RawCommand(n1.Cfg.Addr, rawTimeout, "CLUSTER", "FORGET", id); got != "+OK" {
			t.Fatalf("CLUSTER FORGET %s = %q", id, got)
		}
		c.WaitUntil("drain "+id, func() string {
			for _, n := range n1.Srv.Node().Status().Nodes {
				if n.ID == id {
					return id + " still registered"
				}
			}
			return ""
		})
		if id == "n5" {
			got := <-blocked
			if !strings.HasPrefix(got, "-MOVED "+strconv.Itoa(fsm.KeySlot([]byte(key)))+" ") {
				t.Errorf("client blocked on n5 got %q; want a MOVED for slot %d", got, fsm.KeySlot([]byte(key)))
			}
		}
		c.Stop(c.Node(id))
	}
	c.WaitUntil("scale-in to 3 nodes", func() string { return c.Settled(3) })
	close(stop)
	wg.Wait()
	// A fresh client: cc's slot map may still name the drained nodes, and a
	// refused connection is not a redirect that would refresh it.
	clustertest.CheckAcked(t, c.Client(), &acked)
	t.Logf("%d writes acknowledged across scale-out and scale-in", acked.Total())
}

// TestClusterDeadNode: a node that stays unreachable longer than
// --dead-node-timeout is drained: its replicas move to the live nodes and
// it is removed from the cluster, without anyone calling CLUSTER FORGET.
func TestClusterDeadNode(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 4, 4, clustertest.WithConfig(func(nd *clustertest.Node) {
		nd.Cfg.DeadNodeTimeout = 2 * time.Second
	}))
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(4) })
	c.Kill(c.Node("n4"))
	c.WaitUntil("dead node replaced", func() string { return c.Settled(3) })
	for _, n := range c.Node("n1").Srv.Node().Status().Nodes {
		if n.ID == "n4" {
			t.Fatalf("n4 still registered: %+v", n)
		}
	}
}
