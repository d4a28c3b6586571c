package clustertest_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster/clustertest"
)

// TestWipedVoterDoesNotVote: a node restarted with an empty data dir and
// its old --node-id must not act as the voter it was. The scenario: the
// shard's leader L and follower A have writes that follower B missed (B
// was down). Then A and L go down, A's disk is wiped, and A and B come
// back. If A voted as its old self, B (without the missed writes) would
// win an election with A's vote and the writes would be gone for good,
// even after L returns. They must all be there once L is back.
func TestWipedVoterDoesNotVote(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 3, 1)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(3) })
	ctx := context.Background()
	const key = "ledger"
	leader := c.LeaderOf(key)
	var a, b *clustertest.Node
	for _, nd := range c.Running() {
		switch {
		case nd == leader:
		case a == nil:
			a = nd
		default:
			b = nd
		}
	}
	cc := c.Client()
	var acked clustertest.AckLog
	write := func(n int, tag string) {
		t.Helper()
		for i := range n {
			id, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"tag", tag, "i", fmt.Sprint(i)}}).Result()
			if err != nil {
				t.Fatalf("XADD %s %d: %v", tag, i, err)
			}
			acked.Add(key, id)
		}
	}
	write(20, "all three")
	c.Kill(b)
	write(20, "without "+b.ID)
	c.Kill(a)
	c.Kill(leader)
	c.Wipe(a)

	// A and B come back; L stays down. They cannot serve the shard
	// without L (A has no state), so start them without waiting.
	c.StartAsync(a)
	c.StartAsync(b)
	c.WaitUntil("B elected with the wiped node's vote, or the wiped node refused as its old self", func() string {
		if b.Srv.Node().Status().Shards[0].Leader {
			return "" // the hole: B leads without the writes it missed
		}
		if a.Srv.Node().Status().Refused.StaleReplica > 0 {
			return "" // B asked for A's vote as the replica A was, and A refused
		}
		return fmt.Sprintf("%s does not lead the shard, and %s refused nothing", b.ID, a.ID)
	})
	if b.Srv.Node().Status().Shards[0].Leader {
		t.Errorf("%s leads the shard without %s: it was elected with the wiped %s's vote", b.ID, leader.ID, a.ID)
	}
	c.Restart(leader, false)
	c.WaitUntil("all three nodes back", func() string { return c.Settled(3) })
	clustertest.CheckAcked(t, c.Client(), &acked)
}

// TestNewVoterCaughtUpFirst: a replica moved onto a new node (2 shards of
// 3 replicas over 4 nodes: one replica moves to it) joins its
// group as a non-voter and becomes a voter only once it holds what the
// group had committed when it was added. A voter added empty would count
// toward commits (and votes) with nothing in its log: with one more
// failure, entries committed before it joined could be lost.
func TestNewVoterCaughtUpFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := clustertest.New(t, 3, 2)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(3) })
	ctx := context.Background()
	cc := c.Client()
	for i := range 2000 {
		key := fmt.Sprintf("backlog-%d", i%50)
		if err := cc.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"i", fmt.Sprint(i)}}).Err(); err != nil {
			t.Fatalf("XADD %s: %v", key, err)
		}
	}
	// What each shard had committed before the new node existed.
	marks := map[int]uint64{}
	for _, nd := range c.Running() {
		for i, s := range nd.Srv.Node().Status().Shards {
			if s.Leader {
				marks[i] = s.CommitIndex
			}
		}
	}
	n4 := c.AddAsync("n4")
	promoted := map[int]bool{}
	c.WaitUntil("n4 promoted where it is placed, each time once caught up", func() string {
		for _, nd := range c.Running() {
			if nd == n4 {
				continue
			}
			for i, s := range nd.Srv.Node().View().Shards {
				if s.Leader != nd.ID || promoted[i] || !slices.Contains(s.Followers, n4.ID) {
					continue
				}
				promoted[i] = true
				applied := uint64(0)
				for _, r := range n4.Srv.Node().Status().Shards {
					if r.ID == strconv.Itoa(i) {
						applied = r.RaftApplied
					}
				}
				if applied < marks[i] {
					t.Errorf("shard %d: n4 is a voter with index %d applied; the group had committed %d before n4 joined", i, applied, marks[i])
				}
			}
		}
		if len(promoted) == 0 {
			return "n4 a voter of no shard"
		}
		return c.Settled(4)
	})
}

// TestLeaderChangeDuringWrite: a write whose leader loses its leadership
// after proposing it must not be answered with a redirect that the client
// retries, when the entry may still commit. The leader L is cut off so
// that follower F1 receives the entry but L never hears F1's answer, and
// F2 hears nothing from L: L steps down without knowing the entry's fate,
// and F1, which holds it, becomes the leader and commits it. go-redis's
// ClusterClient retries MOVED and TRYAGAIN by itself, so a redirect here
// stored the payload twice.
//
// With the partition healed once F1 leads, L sees the entry commit and
// answers it with its real reply; left cut off, L cannot tell within its
// bound and answers UNCERTAIN, which the client does not retry. Either way
// the payload is stored once.
func TestLeaderChangeDuringWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	for _, heal := range []bool{true, false} {
		t.Run(map[bool]string{true: "healed", false: "cut off"}[heal], func(t *testing.T) {
			c := clustertest.New(t, 3, 1)
			c.StartAll()
			c.WaitUntil("formation", func() string { return c.Settled(3) })
			const key = "payments"
			cc := c.Client()
			ctx := context.Background()
			if err := cc.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"p", "warm-up"}}).Err(); err != nil {
				t.Fatal(err)
			}
			l := c.LeaderOf(key)
			var f1, f2 *clustertest.Node
			for _, nd := range c.Running() {
				switch {
				case nd == l:
				case f1 == nil:
					f1 = nd
				default:
					f2 = nd
				}
			}
			c.Net.CutBoth(l.ID, f2.ID)
			c.Net.Cut(f1.ID, l.ID) // F1 gets L's entries; L never hears back

			done := make(chan error, 1)
			var id string
			go func() {
				var err error
				id, err = cc.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"p", "once"}}).Result()
				done <- err
			}()
			c.WaitUntil(f1.ID+" leads the shard", func() string {
				if !f1.Srv.Node().Status().Shards[0].Leader {
					return f1.ID + " does not lead"
				}
				return ""
			})
			if heal {
				c.Net.Heal()
			}
			err := <-done
			c.Net.Heal()
			msgs := readAll(t, c, key)
			var stored []string
			for _, m := range msgs {
				if m.Values["p"] == "once" {
					stored = append(stored, m.ID)
				}
			}
			if len(stored) != 1 {
				t.Fatalf("the payload is stored under %v; want exactly once (the client's XADD answered %q, %v)", stored, id, err)
			}
			switch {
			case heal && (err != nil || id != stored[0]):
				t.Errorf("XADD = %q, %v; want the ID it was stored under, %s", id, err, stored[0])
			case !heal && (err == nil || !strings.HasPrefix(err.Error(), "UNCERTAIN ")):
				t.Errorf("XADD = %q, %v; want UNCERTAIN", id, err)
			}
			st := l.Srv.Node().Status().Shards[0]
			t.Logf("XADD answered %q, %v; %s resolved committed %d, discarded %d, unknown %d",
				id, err, l.ID, st.ResolvedCommitted, st.ResolvedDiscarded, st.ResolvedUnknown)
		})
	}
}

// readAll reads a stream through a fresh cluster client, once the
// cluster can serve it.
func readAll(t *testing.T, c *clustertest.Cluster, key string) []redis.XMessage {
	t.Helper()
	var msgs []redis.XMessage
	cc := c.Client()
	c.WaitUntil("XRANGE "+key, func() string {
		var err error
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if msgs, err = cc.XRange(ctx, key, "-", "+").Result(); err != nil {
			return err.Error()
		}
		return ""
	})
	return msgs
}

// TestClusterIdentity: two clusters whose gossip pools touch (a node of B
// restarted with a mistyped --join naming A's nodes) do not merge: each
// keeps its own registry, A's nodes see B's as foreign members and ignore
// them, and a Raft connection that names B's cluster ID is refused by A's
// port and counted.
func TestClusterIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	a := clustertest.New(t, 3, 2, clustertest.WithPrefix("a"))
	b := clustertest.New(t, 3, 2, clustertest.WithPrefix("b"))
	a.StartAll()
	b.StartAll()
	a.WaitUntil("A formed", func() string { return a.Settled(3) })
	b.WaitUntil("B formed", func() string { return b.Settled(3) })
	idA := a.Node("a1").Srv.Node().Status().ClusterID
	idB := b.Node("b1").Srv.Node().Status().ClusterID
	if idA == "" || idB == "" || idA == idB {
		t.Fatalf("cluster IDs %q and %q; want two different ones", idA, idB)
	}

	b1 := b.Node("b1")
	b.Stop(b1)
	b1.Cfg.Join = nil
	for _, nd := range a.Nodes() {
		b1.Cfg.Join = append(b1.Cfg.Join, nd.Cfg.GossipAddr) // the mistyped --join
	}
	b.Restart(b1, false)
	a1 := a.Node("a1")
	a.WaitUntil("A sees b1 as a member of another cluster", func() string {
		if got := a1.Srv.Node().Status().ForeignMembers["b1"]; got != idB {
			return fmt.Sprintf("a1's foreign members %v", a1.Srv.Node().Status().ForeignMembers)
		}
		return ""
	})
	for _, c := range []*clustertest.Cluster{a, b} {
		for _, nd := range c.Running() {
			var ids []string
			for _, n := range nd.Srv.Node().Status().Nodes {
				ids = append(ids, n.ID)
			}
			if want := clustertest.IDs(c.Nodes()); !slices.Equal(ids, want) {
				t.Errorf("%s's registry %v; want %v", nd.ID, ids, want)
			}
		}
	}

	// A connection to a1's Raft port from B (its header names B's ID).
	before := a1.Srv.Node().Status().Refused.OtherCluster
	conn, err := net.Dial("tcp", a1.Cfg.RaftAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	header := []byte{0xA8, byte(len(idB))}
	header = append(header, idB...)
	header = append(header, 4, 'm', 'e', 't', 'a', 0)
	if _, err := conn.Write(header); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("read on a connection from another cluster = %d, %v; want it closed", n, err)
	}
	a.WaitUntil("the refusal counted", func() string {
		if got := a1.Srv.Node().Status().Refused.OtherCluster; got <= before {
			return fmt.Sprintf("other_cluster %d", got)
		}
		return ""
	})
}
