package cluster

import (
	"fmt"
	"slices"
	"testing"
)

func metaWith(nodes []string, shards, replicas int, placement [][]string) *MetaState {
	st := &MetaState{Replicas: replicas, Groups: make([]GroupInfo, shards)}
	for _, id := range nodes {
		st.Nodes = append(st.Nodes, NodeInfo{ID: id})
	}
	for i := range placement {
		st.Groups[i].Replicas = placement[i]
	}
	return st
}

// checkSpread fails unless every shard has r distinct replicas on
// non-draining nodes, per-node replica counts differ by at most one, and
// no node is preferred leader of more than ceil(shards/nodes) shards.
func checkSpread(t *testing.T, st *MetaState, p [][]string, r int) {
	t.Helper()
	load, lead := map[string]int{}, map[string]int{}
	eligible := 0
	for _, n := range st.Nodes {
		if !n.Draining {
			load[n.ID] = 0
			eligible++
		}
	}
	for sh, reps := range p {
		if len(reps) != r {
			t.Fatalf("shard %d has replicas %v; want %d", sh, reps, r)
		}
		seen := map[string]bool{}
		for _, id := range reps {
			if _, ok := load[id]; !ok || seen[id] {
				t.Fatalf("shard %d replicas %v: %s is draining, unknown or repeated", sh, reps, id)
			}
			seen[id] = true
			load[id]++
		}
		lead[reps[0]]++
	}
	lo, hi := len(p)*r, 0
	for _, l := range load {
		lo, hi = min(lo, l), max(hi, l)
	}
	if hi-lo > 1 {
		t.Fatalf("replica counts %v differ by more than one", load)
	}
	limit := (len(p) + eligible - 1) / eligible
	for id, n := range lead {
		if n > limit {
			t.Fatalf("%s preferred for %d shards, limit %d (%v)", id, n, limit, lead)
		}
	}
}

func TestRebalanceInitial(t *testing.T) {
	for _, tc := range []struct{ nodes, shards, replicas, want int }{
		{1, 16, 3, 1}, {3, 16, 3, 3}, {3, 8, 3, 3}, {5, 16, 3, 3}, {5, 7, 3, 3}, {2, 4, 3, 2}, {4, 16, 1, 1},
	} {
		t.Run(fmt.Sprintf("%dnodes_%dshards_r%d", tc.nodes, tc.shards, tc.replicas), func(t *testing.T) {
			var nodes []string
			for i := range tc.nodes {
				nodes = append(nodes, fmt.Sprintf("n%d", i+1))
			}
			st := metaWith(nodes, tc.shards, tc.replicas, nil)
			p := Rebalance(st, nil, tc.shards)
			checkSpread(t, st, p, tc.want)
			if again := Rebalance(st, nil, tc.shards); !slices.EqualFunc(p, again, slices.Equal) {
				t.Fatalf("not deterministic: %v then %v", p, again)
			}
		})
	}
}

// TestRebalanceScaleOut: two new nodes get replicas, at most maxMoves
// shards change per call, only settled shards change, and repeated calls
// (each applied) converge to an even spread that keeps most replicas.
func TestRebalanceScaleOut(t *testing.T) {
	st := metaWith([]string{"n1", "n2", "n3"}, 8, 3, nil)
	for i, reps := range Rebalance(st, nil, 8) {
		st.Groups[i].Replicas = reps
	}
	st.Nodes = append(st.Nodes, NodeInfo{ID: "n4"}, NodeInfo{ID: "n5"})
	unsettled := 3
	for round := 0; round < 20; round++ {
		p := Rebalance(st, func(sh int) bool { return sh != unsettled }, 2)
		changed := 0
		for i := range p {
			if !sameSet(p[i], st.Groups[i].Replicas) {
				changed++
				if i == unsettled {
					t.Fatalf("round %d changed unsettled shard %d: %v -> %v", round, i, st.Groups[i].Replicas, p[i])
				}
			}
			st.Groups[i].Replicas = p[i]
		}
		if changed > 2 {
			t.Fatalf("round %d changed %d shards; want at most 2", round, changed)
		}
	}
	unsettled = -1
	for range 10 {
		for i, reps := range Rebalance(st, func(int) bool { return true }, 2) {
			st.Groups[i].Replicas = reps
		}
	}
	checkSpread(t, st, func() [][]string {
		var p [][]string
		for _, g := range st.Groups {
			p = append(p, g.Replicas)
		}
		return p
	}(), 3)
}

// TestRebalanceDrain: a draining node loses every replica; the others
// stay spread.
func TestRebalanceDrain(t *testing.T) {
	st := metaWith([]string{"n1", "n2", "n3", "n4"}, 8, 3, nil)
	for i, reps := range Rebalance(st, nil, 8) {
		st.Groups[i].Replicas = reps
	}
	st.Nodes[3].Draining = true
	p := Rebalance(st, nil, 8)
	for sh, reps := range p {
		if slices.Contains(reps, "n4") {
			t.Fatalf("shard %d still on draining n4: %v", sh, reps)
		}
	}
	checkSpread(t, st, p, 3)
}
