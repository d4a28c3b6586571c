package clustertest_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

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
