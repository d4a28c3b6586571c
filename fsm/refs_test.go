package fsm

import "testing"

// refsSetup is a stream 1-1..1-5 with two groups: g1 read everything and
// acked 1-1 and 1-2; g2 read up to 1-3 and acked 1-1 only.
var refsSetup = []step{
	{0, "XADD s 1-1 f 1", "1-1"},
	{0, "XADD s 1-2 f 2", "1-2"},
	{0, "XADD s 1-3 f 3", "1-3"},
	{0, "XADD s 1-4 f 4", "1-4"},
	{0, "XADD s 1-5 f 5", "1-5"},
	{0, "XGROUP CREATE s g1 0", "+OK"},
	{0, "XGROUP CREATE s g2 0", "+OK"},
	{0, "XREADGROUP GROUP g1 c STREAMS s >", "{s:[[1-1 [f 1]] [1-2 [f 2]] [1-3 [f 3]] [1-4 [f 4]] [1-5 [f 5]]]}"},
	{0, "XREADGROUP GROUP g2 c COUNT 3 STREAMS s >", "{s:[[1-1 [f 1]] [1-2 [f 2]] [1-3 [f 3]]]}"},
	{0, "XACK s g1 1-1 1-2", ":2"},
	{0, "XACK s g2 1-1", ":1"},
}

func withSetup(steps ...step) []step {
	return append(append([]step{}, refsSetup...), steps...)
}

func TestTrimRefs(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"keepref default", withSetup(
			step{0, "XTRIM s MAXLEN 2", ":3"},
			step{0, "XPENDING s g1", "[:3 1-3 1-5 [[c 3]]]"},
			step{0, "XPENDING s g2", "[:2 1-2 1-3 [[c 2]]]"},
		)},
		{"keepref explicit", withSetup(
			step{0, "XTRIM s MAXLEN 2 KEEPREF", ":3"},
			step{0, "XPENDING s g2", "[:2 1-2 1-3 [[c 2]]]"},
		)},
		{"delref", withSetup(
			step{0, "XTRIM s MAXLEN 2 DELREF", ":3"},
			step{0, "XPENDING s g1", "[:2 1-4 1-5 [[c 2]]]"},
			step{0, "XPENDING s g2", "[:0 nil nil *nil]"},
			step{0, "XINFO CONSUMERS s g2", "[{name:c pending::0 idle::0 inactive::0}]"},
		)},
		{"acked stops at the first referenced", withSetup(
			step{0, "XTRIM s MINID 9 ACKED", ":1"},
			step{0, "XRANGE s - +", "[[1-2 [f 2]] [1-3 [f 3]] [1-4 [f 4]] [1-5 [f 5]]]"},
			step{0, "XACK s g2 1-2", ":1"},
			step{0, "XTRIM s MAXLEN 0 ACKED", ":1"},
			step{0, "XACK s g1 1-3 1-4 1-5", ":3"},
			step{0, "XACK s g2 1-3", ":1"},
			// g2 has not delivered 1-4: still referenced.
			step{0, "XTRIM s MAXLEN 0 ACKED", ":1"},
			step{0, "XRANGE s - +", "[[1-4 [f 4]] [1-5 [f 5]]]"},
		)},
		{"acked approx keeps a referenced block", withSetup(
			step{0, "XTRIM s MAXLEN ~ 0 ACKED", ":0"},
			step{0, "XLEN s", ":5"},
		)},
		{"acked without groups trims", []step{
			{0, "XADD s 1-1 f 1", "1-1"},
			{0, "XADD s ACKED MAXLEN 1 1-2 f 2", "1-2"},
			{0, "XRANGE s - +", "[[1-2 [f 2]]]"},
		}},
		{"xadd acked keeps the unread", withSetup(
			step{0, "XADD s MAXLEN 1 ACKED 1-6 f 6", "1-6"},
			step{0, "XLEN s", ":5"},
		)},
		{"xadd delref", withSetup(
			step{0, "XADD s DELREF MAXLEN = 1 * f 6", "1-6"},
			step{0, "XPENDING s g1", "[:0 nil nil *nil]"},
		)},
		{"two ref options", []step{
			{0, "XTRIM s MAXLEN 1 ACKED DELREF", "-ERR syntax error"},
			{0, "XADD s KEEPREF ACKED * f v", "-" + errInvalidID},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runSteps(t, New(), c.steps) })
	}
}

func TestXDelEx(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"missing key", []step{{0, "XDELEX nokey IDS 2 1-1 2-2", "[:-1 :-1]"}}},
		{"keepref", withSetup(
			step{0, "XDELEX s IDS 3 1-1 1-3 9-9", "[:1 :1 :-1]"},
			step{0, "XPENDING s g1", "[:3 1-3 1-5 [[c 3]]]"},
		)},
		{"delref cleans dangling references", withSetup(
			step{0, "XDEL s 1-3", ":1"},
			step{0, "XDELEX s DELREF IDS 2 1-3 1-4", "[:-1 :1]"},
			step{0, "XPENDING s g1", "[:1 1-5 1-5 [[c 1]]]"},
			step{0, "XPENDING s g2", "[:1 1-2 1-2 [[c 1]]]"},
		)},
		{"acked", withSetup(
			step{0, "XDELEX s ACKED IDS 4 1-1 1-2 1-4 7-7", "[:1 :2 :2 :2]"},
			step{0, "XACK s g2 1-2", ":1"},
			step{0, "XDELEX s IDS 1 1-2 ACKED", "[:1]"},
			step{0, "XRANGE s - 1-2", "[]"},
		)},
		{"errors", []step{
			{0, "XDELEX s IDS 0 1-1", "-" + errNumIDs},
			{0, "XDELEX s IDS -1 1-1", "-" + errNumIDs},
			{0, "XDELEX s IDS x 1-1", "-" + errNumIDs},
			{0, "XDELEX s IDS 3 1-1 1-2", "-" + errNumIDsMatch},
			{0, "XDELEX s IDS 1 1-1 1-2", "-ERR syntax error"},
			{0, "XDELEX s ACKED DELREF IDS 1 1-1", "-ERR syntax error"},
			{0, "XDELEX s IDS 1 bad", "-" + errInvalidID},
			{0, "XDELEX s FOO IDS 1 1-1", "-ERR syntax error"},
			{0, "XDELEX s IDS 1", "-ERR wrong number of arguments for 'xdelex' command"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runSteps(t, New(), c.steps) })
	}
}

func TestXAckDel(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"missing key or group", withSetup(
			step{0, "XACKDEL nokey g1 IDS 1 1-1", "[:-1]"},
			step{0, "XACKDEL s nogroup IDS 2 1-1 1-3", "[:-1 :-1]"},
			step{0, "XLEN s", ":5"},
		)},
		{"keepref", withSetup(
			step{0, "XACKDEL s g1 IDS 2 1-3 8-8", "[:1 :-1]"},
			step{0, "XPENDING s g1", "[:2 1-4 1-5 [[c 2]]]"},
			step{0, "XPENDING s g2", "[:2 1-2 1-3 [[c 2]]]"},
		)},
		{"delref", withSetup(
			step{0, "XACKDEL s g1 DELREF IDS 1 1-3", "[:1]"},
			step{0, "XPENDING s g2", "[:1 1-2 1-2 [[c 1]]]"},
		)},
		{"acked", withSetup(
			step{0, "XACKDEL s g1 ACKED IDS 2 1-3 1-4", "[:2 :2]"},
			step{0, "XPENDING s g1", "[:1 1-5 1-5 [[c 1]]]"},
			step{0, "XACKDEL s g2 ACKED IDS 2 1-2 1-3", "[:1 :1]"},
			step{0, "XRANGE s - +", "[[1-1 [f 1]] [1-4 [f 4]] [1-5 [f 5]]]"},
		)},
		{"errors", []step{
			{0, "XACKDEL s g IDS 0 1-1", "-" + errNumIDs},
			{0, "XACKDEL s g IDS 2 1-1", "-" + errNumIDsMatch},
			{0, "XACKDEL s g KEEPREF KEEPREF IDS 1 1-1", "-ERR syntax error"},
			{0, "XACKDEL s g IDS 1 1-1 x", "-ERR syntax error"},
			{0, "XACKDEL s g KEEPREF ACKED x", "-ERR syntax error"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runSteps(t, New(), c.steps) })
	}
}
