package fsm

import "testing"

func TestXAck(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XACK s", "-ERR wrong number of arguments for 'xack' command"},
		{1, "XACK nokey g x", ":0"},
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XACK s nog x", ":0"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XACK s g x", "-" + errInvalidID},
		{1, "XREADGROUP GROUP g c STREAMS s >", "{s:[[1-1 [a 1]] [1-2 [a 2]]]}"},
		{1, "XACK s g 1-1 x", "-" + errInvalidID},
		{1, "XPENDING s g", "[:2 1-1 1-2 [[c 2]]]"},
		{1, "XACK s g 1-1 1-1 9-9", ":1"},
		{1, "XDEL s 1-2", ":1"},
		{1, "XPENDING s g", "[:1 1-2 1-2 [[c 1]]]"},
		{1, "XACK s g 1-2", ":1"},
		{1, "XPENDING s g", "[:0 nil nil *nil]"},
		{1, "XINFO CONSUMERS s g", "[{name:c pending::0 idle::0 inactive::0}]"},
	})
}
