package main

import (
	"slices"
	"sync"
	"testing"
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
		c.stop(c.node(id))
	}
	c.waitUntil("scale-in to 3 nodes", func() string { return c.settled(3) })
	close(stop)
	wg.Wait()
	checkAcked(t, cc, &acked)
	t.Logf("%d writes acknowledged across scale-out and scale-in", acked.total())
}
