package fsm

import "testing"

func TestXClaim(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XCLAIM s g c 0", "-ERR wrong number of arguments for 'xclaim' command"},
		{1, "XCLAIM s g c x 1-1", "-NOGROUP No such key 's' or consumer group 'g'"},
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XADD s 1-3 a 3", "1-3"},
		{1, "XADD s 1-4 a 4", "1-4"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XCLAIM s g c x 1-1", "-ERR Invalid min-idle-time argument for XCLAIM"},
		{1, "XCLAIM s g c 0 1-1 FOO", "-ERR Unrecognized XCLAIM option 'FOO'"},
		{1, "XCLAIM s g c 0 1-1 IDLE x", "-ERR Invalid IDLE option argument for XCLAIM"},
		{1, "XCLAIM s g c 0 1-1 TIME x", "-ERR Invalid TIME option argument for XCLAIM"},
		{1, "XCLAIM s g c 0 1-1 RETRYCOUNT x", "-ERR Invalid RETRYCOUNT option argument for XCLAIM"},
		{1, "XCLAIM s g c 0 1-1 LASTID x", "-" + errInvalidID},
		{1, "XCLAIM s g c 0 1-1 IDLE", "-ERR Unrecognized XCLAIM option 'IDLE'"},
		// Nothing pending: nothing claimed, no consumer created.
		{1, "XCLAIM s g c 0 1-1", "[]"},
		{1, "XINFO CONSUMERS s g", "[]"},
		{1000, "XREADGROUP GROUP g bob STREAMS s >", "{s:[[1-1 [a 1]] [1-2 [a 2]] [1-3 [a 3]] [1-4 [a 4]]]}"},
		{1500, "XCLAIM s g alice 600 1-1", "[]"},
		{1500, "XCLAIM s g alice 500 1-1 1-2 JUSTID", "[1-1 1-2]"},
		{1500, "XPENDING s g - + 10", "[[1-1 alice :0 :1] [1-2 alice :0 :1] [1-3 bob :500 :1] [1-4 bob :500 :1]]"},
		{1500, "XCLAIM s g alice 0 1-3 IDLE 300 RETRYCOUNT 9", "[[1-3 [a 3]]]"},
		{1500, "XCLAIM s g alice 0 1-4 TIME 1100", "[[1-4 [a 4]]]"},
		{1500, "XPENDING s g - + 10", "[[1-1 alice :0 :1] [1-2 alice :0 :1] [1-3 alice :300 :9] [1-4 alice :400 :2]]"},
		{1500, "XCLAIM s g bob 0 1-1 TIME 99999", "[[1-1 [a 1]]]"}, // a future TIME means now
		{1500, "XCLAIM s g bob 0 1-2 IDLE -5", "[[1-2 [a 2]]]"},
		{1600, "XPENDING s g - + 2", "[[1-1 bob :100 :2] [1-2 bob :100 :2]]"},
		// A deleted entry leaves the PEL; a not-pending one is skipped
		// unless FORCE (which starts at 1 delivery, +1 for this claim).
		{1600, "XDEL s 1-1", ":1"},
		{1600, "XADD s 1-5 a 5", "1-5"},
		{1600, "XCLAIM s g carol 0 1-1 1-5 9-9", "[]"},
		{1600, "XCLAIM s g carol 0 1-1 1-5 9-9 FORCE", "[[1-5 [a 5]]]"},
		{1600, "XPENDING s g - + 10", "[[1-2 bob :100 :2] [1-3 alice :400 :9] [1-4 alice :500 :2] [1-5 carol :0 :2]]"},
		{1600, "XCLAIM s g carol 0 1-5 JUSTID LASTID 7-0", "[1-5]"},
		{1600, "XINFO GROUPS s", "[{name:g consumers::3 pending::4 last-delivered-id:7-0 entries-read::4 lag::1}]"},
		{1600, "XCLAIM s g carol 0 1-5 LASTID 1-0", "[[1-5 [a 5]]]"},
		{1700, "XINFO CONSUMERS s g", "[{name:alice pending::2 idle::200 inactive::200} {name:bob pending::1 idle::200 inactive::200} {name:carol pending::1 idle::100 inactive::100}]"},
	})
}
