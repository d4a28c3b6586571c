package fsm

import (
	"fmt"
	"testing"
)

func TestXDel(t *testing.T) {
	runSteps(t, New(), []step{
		{0, "XDEL nokey 1-1 bad", ":0"},
		{0, "XADD s 1-1 a 1", "1-1"},
		{0, "XADD s 1-2 a 2", "1-2"},
		{0, "XADD s 1-3 a 3", "1-3"},
		{0, "XDEL s bad", "-" + errInvalidID},
		{0, "XDEL s 1-2 1-2 9-9", ":1"},
		{0, "XRANGE s - +", "[[1-1 [a 1]] [1-3 [a 3]]]"},
		{0, "XDEL s 1-3", ":1"},
		{0, "XADD s 1-3 a 3", "-" + errXAddSmaller},
		{0, "XADD s 1-* a 4", "1-4"},
		{0, "XDEL s 1-1 1-4", ":2"},
		{0, "XLEN s", ":0"},
		{0, "EXISTS s", ":1"}, // an emptied stream keeps existing
		{0, "XRANGE s - +", "[]"},
		{0, "XADD s 2-0 a 5", "2-0"},
		{0, "XRANGE s - +", "[[2-0 [a 5]]]"},
	})
}

// TestXDelWholeBlock deletes every entry of a middle block: it is removed.
func TestXDelWholeBlock(t *testing.T) {
	m := New()
	for i := 0; i < 300; i++ {
		do(m, 0, args(fmt.Sprintf("XADD s %d-0 f v", i+1)))
	}
	for i := 100; i < 200; i++ {
		do(m, 0, args(fmt.Sprintf("XDEL s %d-0", i+1)))
	}
	s := m.keys["s"]
	if s.blocks.Len() != 2 || s.length != 200 {
		t.Fatalf("blocks %d, length %d; want 2, 200", s.blocks.Len(), s.length)
	}
	runSteps(t, m, []step{
		{0, "XRANGE s 100 202 COUNT 3", "[[100-0 [f v]] [201-0 [f v]] [202-0 [f v]]]"},
		{0, "XREVRANGE s 202 100", "[[202-0 [f v]] [201-0 [f v]] [100-0 [f v]]]"},
	})
}

func TestXSetID(t *testing.T) {
	runSteps(t, New(), []step{
		{0, "XSETID nokey 5", "-" + errNoSuchKey},
		{0, "XADD s 10-0 a 1", "10-0"},
		{0, "XADD s 20-0 a 2", "20-0"},
		{0, "XSETID s 5", "-" + errSetIDSmaller},
		{0, "XSETID s x", "-" + errInvalidID},
		{0, "XSETID s 30 MAXDELETEDID 40", "-" + errSetIDMaxDel},
		{0, "XSETID s 30 ENTRIESADDED -1", "-" + errSetIDAddedNeg},
		{0, "XSETID s 30 ENTRIESADDED 1", "-" + errSetIDAdded},
		{0, "XSETID s 30 ENTRIESADDED x", "-" + errNotInt},
		{0, "XSETID s 30 FOO 1", "-" + errSyntax},
		{0, "XSETID s 30 ENTRIESADDED", "-" + errSyntax},
		{0, "XDEL s 20-0", ":1"},
		{0, "XSETID s 15", "+OK"}, // 7.0.15: no check against max_deleted
		{0, "XADD s 15-* a 3", "15-1"},
		{0, "XRANGE s - +", "[[10-0 [a 1]] [15-1 [a 3]]]"},
		{0, "XSETID s 50 ENTRIESADDED 9 MAXDELETEDID 45", "+OK"},
		{0, "XADD s 50-0 a 4", "-" + errXAddSmaller},
		{0, "XADD s 50-1 a 4", "50-1"},
	})
}
