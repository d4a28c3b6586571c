package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	c := newTestCluster(t, 3, 8)
	c.startAll()
	c.waitUntil("formation", func() string { return c.settled(3) })
	cc := c.client()
	var acked ackLog
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writeLoad(cc, &acked, stop, &wg)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	c.add("n4")
	c.add("n5")
	c.waitUntil("scale-out to 5 nodes", func() string { return c.settled(5) })
	if got := ids(c.running()); !slices.Equal(got, []string{"n1", "n2", "n3", "n4", "n5"}) {
		t.Fatalf("running %v", got)
	}
	t.Logf("scaled out to 5 nodes; %d writes acknowledged so far", acked.total())

	// A client blocked on a shard n5 leads gets redirected when the drain
	// hands that leadership away.
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("blocked-%d", i); c.leaderOf(k).id == "n5" {
			key = k
		}
	}
	blocked := make(chan string, 1)
	go func() {
		blocked <- rawCommandTimeout(c.node("n5").cfg.Addr, 60*time.Second, "XREAD", "BLOCK", "0", "STREAMS", key, "$")
	}()
	time.Sleep(200 * time.Millisecond)

	for _, id := range []string{"n5", "n4"} {
		if got := rawCommand(t, c.node("n1").cfg.Addr, "CLUSTER", "FORGET", id); got != "+OK" {
			t.Fatalf("CLUSTER FORGET %s = %q", id, got)
		}
		c.waitUntil("drain "+id, func() string {
			for _, n := range c.node("n1").srv.node.Status().Nodes {
				if n.ID == id {
					return id + " still registered"
				}
			}
			return ""
		})
		if id == "n5" {
			got := <-blocked
			if !strings.HasPrefix(got, "-MOVED "+strconv.Itoa(keySlot([]byte(key)))+" ") {
				t.Errorf("client blocked on n5 got %q; want a MOVED for slot %d", got, keySlot([]byte(key)))
			}
		}
		c.stop(c.node(id))
	}
	c.waitUntil("scale-in to 3 nodes", func() string { return c.settled(3) })
	close(stop)
	wg.Wait()
	// A fresh client: cc's slot map may still name the drained nodes, and a
	// refused connection is not a redirect that would refresh it.
	checkAcked(t, c.client(), &acked)
	t.Logf("%d writes acknowledged across scale-out and scale-in", acked.total())
}

// TestClusterDeadNode: a node that stays unreachable longer than
// --dead-node-timeout is drained: its replicas move to the live nodes and
// it is removed from the cluster, without anyone calling CLUSTER FORGET.
func TestClusterDeadNode(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := newTestCluster(t, 4, 4)
	for _, nd := range c.nodes {
		nd.cfg.DeadNodeTimeout = 2 * time.Second
	}
	c.startAll()
	c.waitUntil("formation", func() string { return c.settled(4) })
	c.kill(c.node("n4"))
	c.waitUntil("dead node replaced", func() string { return c.settled(3) })
	for _, n := range c.node("n1").srv.node.Status().Nodes {
		if n.ID == "n4" {
			t.Fatalf("n4 still registered: %+v", n)
		}
	}
}
