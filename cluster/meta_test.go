package cluster

import (
	"strings"
	"testing"
)

func applyOK(t *testing.T, st *MetaState, c metaCmd, idx uint64) {
	t.Helper()
	if err := st.apply(encodeMetaCmd(c), idx); err != nil {
		t.Fatalf("apply %s: %v", c.Op, err)
	}
}

// TestMetaStateApply walks the configuration through its life: init,
// leader reports (a stale term is ignored), a new node, a drain, and a
// removal that leaves a tombstone.
func TestMetaStateApply(t *testing.T) {
	st := &MetaState{}
	if err := st.apply(encodeMetaCmd(metaCmd{Op: metaOpAddNode, Nodes: []NodeInfo{{ID: "x"}}}), 1); err == nil {
		t.Fatal("add_node before init accepted")
	}
	l, _ := NewLayout(4)
	nodes := []NodeInfo{{ID: "n2", RaftAddr: "b"}, {ID: "n1", RaftAddr: "a"}, {ID: "n3", RaftAddr: "c"}}
	applyOK(t, st, metaCmd{Op: metaOpInit, Layout: &l, Replicas: 3, Nodes: nodes}, 2)
	if !st.Initialized() || len(st.Groups) != 4 || st.Nodes[0].ID != "n1" || st.Epoch != 2 {
		t.Fatalf("after init: %+v", st)
	}
	for i, g := range st.Groups {
		if len(g.Replicas) != 3 || g.Formed {
			t.Fatalf("shard %d after init: %+v", i, g)
		}
	}
	if err := st.apply(encodeMetaCmd(metaCmd{Op: metaOpInit, Layout: &l}), 3); err == nil {
		t.Fatal("second init accepted")
	}
	applyOK(t, st, metaCmd{Op: metaOpLeader, Shard: 1, Node: "n2", Term: 5, Voters: []string{"n1", "n2", "n3"}}, 4)
	applyOK(t, st, metaCmd{Op: metaOpLeader, Shard: 1, Node: "n1", Term: 4}, 5) // stale
	if g := st.Groups[1]; g.Leader != "n2" || g.Term != 5 || !g.Formed {
		t.Fatalf("shard 1 after reports: %+v", g)
	}
	applyOK(t, st, metaCmd{Op: metaOpAddNode, Nodes: []NodeInfo{{ID: "n4", RaftAddr: "d"}}}, 6)
	applyOK(t, st, metaCmd{Op: metaOpDrain, Node: "n1"}, 7)
	if err := st.apply(encodeMetaCmd(metaCmd{Op: metaOpRemove, Node: "n1"}), 8); err == nil || !strings.Contains(err.Error(), "still holds") {
		t.Fatalf("removing a node that holds replicas: %v", err)
	}
	p := Rebalance(st, nil, 4)
	applyOK(t, st, metaCmd{Op: metaOpPlace, Placement: p}, 9)
	applyOK(t, st, metaCmd{Op: metaOpRemove, Node: "n1"}, 10)
	if _, ok := st.Node("n1"); ok || len(st.Removed) != 1 {
		t.Fatalf("n1 not removed: %+v", st)
	}
	if err := st.apply(encodeMetaCmd(metaCmd{Op: metaOpAddNode, Nodes: []NodeInfo{{ID: "n1"}}}), 11); err == nil {
		t.Fatal("a removed node was registered again")
	}
	c := st.clone()
	c.Groups[0].Replicas[0] = "changed"
	if st.Groups[0].Replicas[0] == "changed" {
		t.Fatal("clone shares replica slices")
	}
}
