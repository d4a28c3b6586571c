package fsm

import "testing"

func TestXPending(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XPENDING s", "-ERR wrong number of arguments for 'xpending' command"},
		{1, "XPENDING s g - +", "-" + errSyntax},
		{1, "XPENDING s g a b c d e f g", "-" + errSyntax},
		{1, "XPENDING s g IDLE x - + 10", "-" + errNotInt},
		{1, "XPENDING s g IDLE 5 - +", "-" + errSyntax},
		{1, "XPENDING s g x + 10", "-" + errInvalidID},
		{1, "XPENDING s g - x 10", "-" + errInvalidID},
		{1, "XPENDING s g - + x", "-" + errNotInt},
		{1, "XPENDING s g (18446744073709551615-18446744073709551615 + 10", "-" + errInvalidStart},
		{1, "XPENDING s g - (0-0 10", "-" + errInvalidEnd},
		{1, "XPENDING s g", "-NOGROUP No such key 's' or consumer group 'g'"},
		{1, "XPENDING s g - + 10", "-NOGROUP No such key 's' or consumer group 'g'"},
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XADD s 1-3 a 3", "1-3"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XPENDING s g", "[:0 nil nil *nil]"},
		{1, "XPENDING s g - + 10", "[]"},
		{100, "XREADGROUP GROUP g bob COUNT 1 STREAMS s >", "{s:[[1-1 [a 1]]]}"},
		{200, "XREADGROUP GROUP g alice STREAMS s >", "{s:[[1-2 [a 2]] [1-3 [a 3]]]}"},
		{250, "XPENDING s g", "[:3 1-1 1-3 [[alice 2] [bob 1]]]"},
		{250, "XPENDING s g - + 10", "[[1-1 bob :150 :1] [1-2 alice :50 :1] [1-3 alice :50 :1]]"},
		{250, "XPENDING s g - + 2", "[[1-1 bob :150 :1] [1-2 alice :50 :1]]"},
		{250, "XPENDING s g - + -1", "[]"},
		{250, "XPENDING s g (1-1 1-3 10", "[[1-2 alice :50 :1] [1-3 alice :50 :1]]"},
		{250, "XPENDING s g - + 10 alice", "[[1-2 alice :50 :1] [1-3 alice :50 :1]]"},
		{250, "XPENDING s g - (1-3 10 alice", "[[1-2 alice :50 :1]]"},
		{250, "XPENDING s g - + 10 nobody", "[]"},
		{250, "XPENDING s g IDLE 100 - + 10", "[[1-1 bob :150 :1]]"},
		{250, "XPENDING s g IDLE 50 - + 10 alice", "[[1-2 alice :50 :1] [1-3 alice :50 :1]]"},
		{250, "XPENDING s g IDLE 51 - + 10 alice", "[]"},
		{50, "XPENDING s g - + 1", "[[1-1 bob :0 :1]]"}, // a clock behind the delivery: idle 0
	})
}
