package fsm

import (
	"fmt"
	"testing"
)

func TestXRange(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{0, "XADD s 1-1 a 1", "1-1"},
		{0, "XADD s 1-2 b 2", "1-2"},
		{0, "XADD s 2-0 a 3 c 4", "2-0"},
		{0, "XADD s 3-5 a 5", "3-5"},
	})
	tests := []struct{ cmd, want string }{
		{"XRANGE s - +", "[[1-1 [a 1]] [1-2 [b 2]] [2-0 [a 3 c 4]] [3-5 [a 5]]]"},
		{"XRANGE s 1 1", "[[1-1 [a 1]] [1-2 [b 2]]]"},
		{"XRANGE s (1-1 2", "[[1-2 [b 2]] [2-0 [a 3 c 4]]]"},
		{"XRANGE s - (2-0", "[[1-1 [a 1]] [1-2 [b 2]]]"},
		{"XRANGE s - + COUNT 2", "[[1-1 [a 1]] [1-2 [b 2]]]"},
		{"XRANGE s - + COUNT 0", "*nil"},
		{"XRANGE s - + COUNT -1", "*nil"},
		{"XRANGE s 3 1", "[]"},
		{"XRANGE s 3-6 +", "[]"},
		{"XRANGE nokey - + COUNT 0", "[]"},
		{"XREVRANGE s + -", "[[3-5 [a 5]] [2-0 [a 3 c 4]] [1-2 [b 2]] [1-1 [a 1]]]"},
		{"XREVRANGE s + - COUNT 1", "[[3-5 [a 5]]]"},
		{"XREVRANGE s (3-5 (1-1", "[[2-0 [a 3 c 4]] [1-2 [b 2]]]"},
		{"XREVRANGE s 1 1", "[[1-2 [b 2]] [1-1 [a 1]]]"},
		{"XRANGE s (- +", "-" + errInvalidID},
		{"XRANGE s - (+", "-" + errInvalidID},
		{"XRANGE s (18446744073709551615-18446744073709551615 +", "-" + errInvalidStart},
		{"XRANGE s - (0-0", "-" + errInvalidEnd},
		{"XRANGE s - + COUNT", "-" + errSyntax},
		{"XRANGE s - + LIMIT 1", "-" + errSyntax},
		{"XRANGE s - + COUNT x", "-" + errNotInt},
		{"XRANGE s 1-x +", "-" + errInvalidID},
		{"XLEN s", ":4"},
		{"XLEN nokey", ":0"},
	}
	for _, tt := range tests {
		if got := compact(do(m, 0, args(tt.cmd))); got != tt.want {
			t.Errorf("%s = %s; want %s", tt.cmd, got, tt.want)
		}
	}
}

// TestXRangeBlocks reads across block boundaries and deleted entries.
func TestXRangeBlocks(t *testing.T) {
	m := New()
	for i := 0; i < 1000; i++ {
		do(m, 0, args(fmt.Sprintf("XADD s %d-%d f %d", 1+i/10, i%10, i)))
	}
	for i := 0; i < 1000; i += 3 {
		do(m, 0, args(fmt.Sprintf("XDEL s %d-%d", 1+i/10, i%10)))
	}
	var live []string
	for i := 0; i < 1000; i++ {
		if i%3 != 0 {
			live = append(live, fmt.Sprintf("%d-%d", 1+i/10, i%10))
		}
	}
	for _, c := range []struct{ from, count int }{{0, 5}, {95, 20}, {60, 200}, {600, 1000}} {
		r := do(m, 0, args(fmt.Sprintf("XRANGE s %s + COUNT %d", live[c.from], c.count)))
		want := live[c.from:min(len(live), c.from+c.count)]
		if len(r.Elems) != len(want) {
			t.Fatalf("XRANGE from %s: %d entries; want %d", live[c.from], len(r.Elems), len(want))
		}
		for i, e := range r.Elems {
			if got := string(e.Elems[0].Bulk); got != want[i] {
				t.Fatalf("XRANGE entry %d = %s; want %s", i, got, want[i])
			}
		}
		rr := do(m, 0, args(fmt.Sprintf("XREVRANGE s %s - COUNT %d", live[c.from], c.count)))
		for i, e := range rr.Elems {
			if got, want := string(e.Elems[0].Bulk), live[c.from-i]; got != want {
				t.Fatalf("XREVRANGE entry %d = %s; want %s", i, got, want)
			}
		}
	}
}
