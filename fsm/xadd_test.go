package fsm

import (
	"fmt"
	"testing"
)

func TestXAdd(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"auto ids follow the stamp", []step{
			{1000, "XADD s * a 1", "1000-0"},
			{1000, "XADD s * a 2", "1000-1"},
			{999, "XADD s * a 3", "1000-2"}, // the clock went back: last.ms wins
			{1005, "XADD s * a 4", "1005-0"},
			{0, "XADD s 2000-* a 5", "2000-0"},
			{0, "XADD s 2000-* a 6", "2000-1"},
			{1, "XADD s * a 7", "2000-2"},
			{0, "XLEN s", ":7"},
		}},
		{"explicit ids", []step{
			{0, "XADD s 5 a 1", "5-0"},
			{0, "XADD s 5 a 1", "-" + errXAddSmaller},
			{0, "XADD s 5-0 a 1", "-" + errXAddSmaller},
			{0, "XADD s 4-9 a 1", "-" + errXAddSmaller},
			{0, "XADD s 5-1 a 1", "5-1"},
			{0, "XADD s 4-* a 1", "-" + errXAddSmaller},
			{0, "XADD t 0-* a 1", "0-1"},
			{0, "XADD t 0-0 a 1", "-" + errXAddZero},
			{0, "XADD t 0 a 1", "-" + errXAddZero},
		}},
		{"exhausted", []step{
			{0, "XADD s 18446744073709551615-18446744073709551614 a 1", "18446744073709551615-18446744073709551614"},
			{0, "XADD s 18446744073709551615-* a 1", "18446744073709551615-18446744073709551615"},
			{0, "XADD s * a 1", "-" + errXAddExhausted},
			{0, "XADD s 1-1 a 1", "-" + errXAddExhausted},
			{0, "XADD t 18446744073709551615-18446744073709551615 a 1", "18446744073709551615-18446744073709551615"},
			{0, "XADD u 7-18446744073709551615 a 1", "7-18446744073709551615"},
			{0, "XADD u 7-* a 1", "-" + errXAddTooLarge},
			{5, "XADD u * a 1", "8-0"},
		}},
		{"nomkstream", []step{
			{0, "XADD s NOMKSTREAM 1-1 a 1", "nil"},
			{0, "EXISTS s", ":0"},
			{0, "XADD s 1-1 a 1", "1-1"},
			{0, "XADD s NOMKSTREAM 1-2 a 1", "1-2"},
		}},
		{"option errors", []step{
			{0, "XADD s 1-1 a", "-ERR wrong number of arguments for 'xadd' command"},
			{0, "XADD s MAXLEN 1 1-1", "-ERR wrong number of arguments for 'xadd' command"},
			{0, "XADD s 1-1 a b c", "-ERR wrong number of arguments for 'xadd' command"},
			{0, "XADD s MAXLEN -1 * a b", "-" + errMaxlenNeg},
			{0, "XADD s MAXLEN ~ 1 LIMIT -1 * a b", "-" + errLimitNeg},
			{0, "XADD s MAXLEN 1 MINID 1 * a b", "-" + errMaxlenMinid},
			{0, "XADD s MAXLEN 1 LIMIT 1 * a b", "-" + errLimitNoApprox},
			{0, "XADD s LIMIT 1 * a b", "-" + errLimitNoStrat},
			{0, "XADD s MAXLEN x * a b", "-" + errNotInt},
			{0, "XADD s MINID x * a b", "-" + errInvalidID},
			{0, "XADD s x-1 a b", "-" + errInvalidID},
			{0, "XADD s 1-x a b", "-" + errInvalidID},
			{0, "XADD s + a b", "-" + errInvalidID},
			{0, "EXISTS s", ":0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, New(), tt.steps) })
	}
}

func TestXAddBlocks(t *testing.T) {
	m := New()
	for i := 0; i < 250; i++ {
		do(m, 0, args(fmt.Sprintf("XADD s %d-1 f %d", i+1, i)))
	}
	s := m.keys["s"]
	if got := s.blocks.Len(); got != 3 {
		t.Fatalf("blocks = %d; want 3 (100 entries each)", got)
	}
	// Big values start a block when the 4096-byte limit would be passed.
	big := fmt.Sprintf("%03000d", 1)
	do(m, 0, args("XADD b 1-1 f "+big))
	do(m, 0, args("XADD b 1-2 f "+big))
	do(m, 0, args("XADD b 1-3 f x"))
	if got := m.keys["b"].blocks.Len(); got != 2 {
		t.Fatalf("blocks = %d; want 2", got)
	}
	got := compact(do(m, 0, args("XRANGE b 1-2 1-3")))
	if want := "[[1-2 [f " + big + "]] [1-3 [f x]]]"; got != want {
		t.Fatalf("XRANGE = %.80s; want %.80s", got, want)
	}
}
