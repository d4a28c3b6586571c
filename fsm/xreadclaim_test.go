package fsm

import "testing"

// claimSetup delivers 1-1 to a at 1000 and 1-2 to a at 900 (an older
// delivery), leaving 1-3 new.
var claimSetup = []step{
	{0, "XADD s 1-1 f 1", "1-1"},
	{0, "XADD s 1-2 f 2", "1-2"},
	{0, "XADD s 1-3 f 3", "1-3"},
	{0, "XGROUP CREATE s g 0", "+OK"},
	{1000, "XREADGROUP GROUP g a COUNT 1 STREAMS s >", "{s:[[1-1 [f 1]]]}"},
	{900, "XREADGROUP GROUP g a COUNT 1 STREAMS s >", "{s:[[1-2 [f 2]]]}"},
}

func TestXReadGroupClaim(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"nothing idle: new entries with 0 0", []step{
			{1500, "XREADGROUP GROUP g b CLAIM 1000 STREAMS s >", "{s:[[1-3 [f 3] :0 :0]]}"},
			{1500, "XPENDING s g - + 10", "[[1-1 a :500 :1] [1-2 a :600 :1] [1-3 b :0 :1]]"},
		}},
		{"oldest delivery first, COUNT covers both", []step{
			{2000, "XREADGROUP GROUP g b COUNT 1 CLAIM 0 STREAMS s >", "{s:[[1-2 [f 2] :1100 :1]]}"},
			{2000, "XREADGROUP GROUP g b COUNT 2 CLAIM 500 STREAMS s >", "{s:[[1-1 [f 1] :1000 :1] [1-3 [f 3] :0 :0]]}"},
			{2000, "XPENDING s g - + 10", "[[1-1 b :0 :2] [1-2 b :0 :2] [1-3 b :0 :1]]"},
			{2000, "XINFO CONSUMERS s g", "[{name:a pending::0 idle::1100 inactive::1100} {name:b pending::3 idle::0 inactive::0}]"},
		}},
		{"no count: all idle then all new", []step{
			{5000, "XREADGROUP GROUP g b CLAIM 100 NOACK STREAMS s >",
				"{s:[[1-2 [f 2] :4100 :1] [1-1 [f 1] :4000 :1] [1-3 [f 3] :0 :0]]}"},
			{5000, "XPENDING s g", "[:2 1-1 1-2 [[b 2]]]"}, // NOACK: only the new entry skips the PEL
		}},
		{"nothing at all", []step{
			{1001, "XREADGROUP GROUP g a COUNT 5 STREAMS s >", "{s:[[1-3 [f 3]]]}"},
			{1100, "XREADGROUP GROUP g b CLAIM 1000 STREAMS s >", "*nil"},
			{1100, "XINFO CONSUMERS s g", "[{name:a pending::3 idle::99 inactive::99}]"},
		}},
		{"deleted idle entries leave the PEL", []step{
			{1000, "XDEL s 1-2", ":1"},
			{2000, "XREADGROUP GROUP g b COUNT 1 CLAIM 0 STREAMS s >", "{s:[[1-1 [f 1] :1000 :1]]}"},
			{2000, "XPENDING s g", "[:1 1-1 1-1 [[b 1]]]"},
		}},
		{"history reads ignore CLAIM", []step{
			{2000, "XREADGROUP GROUP g a CLAIM 0 STREAMS s 0", "{s:[[1-1 [f 1]] [1-2 [f 2]]]}"},
		}},
		{"errors", []step{
			{0, "XREADGROUP GROUP g a CLAIM -1 STREAMS s >", "-" + errReadClaimIdle},
			{0, "XREADGROUP GROUP g a CLAIM x STREAMS s >", "-" + errReadClaimIdle},
			{0, "XREADGROUP GROUP g a CLAIM STREAMS s >", "-" + errReadClaimIdle},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runSteps(t, New(), append(append([]step{}, claimSetup...), c.steps...))
		})
	}
}

// TestTryReadClaim: a CLAIM read is proposed when an entry is idle enough.
func TestTryReadClaim(t *testing.T) {
	m := New()
	runSteps(t, m, claimSetup)
	do(m, 1000, args("XREADGROUP GROUP g a STREAMS s >")) // 1-3 delivered too
	for _, c := range []struct {
		now     int64
		cmd     string
		answers bool
	}{
		{1500, "XREADGROUP GROUP g b CLAIM 1000 STREAMS s >", true},
		{1900, "XREADGROUP GROUP g b CLAIM 1000 STREAMS s >", false}, // 1-2 idle 1000
		{1900, "XREADGROUP GROUP g b STREAMS s >", true},
	} {
		r, ok := m.TryRead(args(c.cmd), c.now)
		if ok != c.answers || (ok && r.Kind != KindNullArray) {
			t.Errorf("TryRead(%s) at %d = %s, %v; want answered %v", c.cmd, c.now, compact(r), ok, c.answers)
		}
	}
}
