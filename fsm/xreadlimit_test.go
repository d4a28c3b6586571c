package fsm

import (
	"reflect"
	"testing"
)

// limitSetup: three streams; every entry of a and b renders as 31 RESP2
// bytes, a stream header ("*2" + one-byte key bulk) as 11.
var limitSetup = []step{
	{0, "XADD a 1-1 f 1", "1-1"},
	{0, "XADD a 1-2 f 2", "1-2"},
	{0, "XADD a 1-3 f 3", "1-3"},
	{0, "XADD b 2-1 g 4", "2-1"},
	{0, "XADD b 2-2 g 5", "2-2"},
	{0, "XADD c 3-1 h 6", "3-1"},
}

func TestXReadLimits(t *testing.T) {
	m := New()
	runSteps(t, m, limitSetup)
	const all3 = "a:[[1-1 [f 1]] [1-2 [f 2]] [1-3 [f 3]]]"
	tests := []struct{ cmd, want string }{
		{"XREAD MAXCOUNT 4 STREAMS a b c 0 0 0", "{" + all3 + " b:[[2-1 [g 4]]]}"},
		{"XREAD COUNT 2 MAXCOUNT 3 STREAMS a b c 0 0 0", "{a:[[1-1 [f 1]] [1-2 [f 2]]] b:[[2-1 [g 4]]]}"},
		{"XREAD MAXCOUNT 3 STREAMS a b c 0 0 0", "{" + all3 + "}"},
		{"XREAD COUNT 1 MAXCOUNT 100 STREAMS a b c 0 0 0", "{a:[[1-1 [f 1]]] b:[[2-1 [g 4]]] c:[[3-1 [h 6]]]}"},
		{"XREAD MAXCOUNT 2 STREAMS nokey a c 0 + 0", "{a:[[1-3 [f 3]]] c:[[3-1 [h 6]]]}"},
		{"xread maxcount 1 maxcount 2 streams a 0", "{a:[[1-1 [f 1]] [1-2 [f 2]]]}"},
		// MAXSIZE: one entry always; then stop once the bytes reach it.
		{"XREAD MAXSIZE 1 STREAMS a b 0 0", "{a:[[1-1 [f 1]]]}"},
		{"XREAD MAXSIZE 42 STREAMS a 0", "{a:[[1-1 [f 1]]]}"},
		{"XREAD MAXSIZE 43 STREAMS a 0", "{a:[[1-1 [f 1]] [1-2 [f 2]]]}"},
		{"XREAD MAXSIZE 104 STREAMS a b 0 0", "{" + all3 + "}"},
		// b's header takes the reply to 115 >= 105: b is left out whole.
		{"XREAD MAXSIZE 105 STREAMS a b c 0 0 0", "{" + all3 + "}"},
		{"XREAD MAXSIZE 116 STREAMS a b 0 0", "{" + all3 + " b:[[2-1 [g 4]]]}"},
		{"XREAD MAXSIZE 116 MAXCOUNT 3 STREAMS a b 0 0", "{" + all3 + "}"},
		{"XREAD MAXSIZE 1 STREAMS a $", "*nil"},
	}
	for _, tt := range tests {
		if got := compact(do(m, 0, args(tt.cmd))); got != tt.want {
			t.Errorf("%s = %s; want %s", tt.cmd, got, tt.want)
		}
	}
}

func TestReadLimitErrors(t *testing.T) {
	cmds := []struct{ cmd, want string }{
		{"XREAD MAXCOUNT 0 STREAMS a 0", errMaxCount},
		{"XREAD MAXCOUNT -1 STREAMS a 0", errMaxCount},
		{"XREAD MAXCOUNT x STREAMS a 0", errMaxCount},
		{"XREAD MAXCOUNT 9223372036854775808 STREAMS a 0", errMaxCount},
		{"XREAD MAXCOUNT STREAMS a 0", errMaxCount}, // STREAMS is the value
		{"XREAD MAXSIZE 0 STREAMS a 0", errMaxSize},
		{"XREAD MAXSIZE 1.5 STREAMS a 0", errMaxSize},
		{"XREAD COUNT 3 MAXCOUNT 2 STREAMS a 0", errMaxCountBelowCount},
		{"XREAD MAXCOUNT 2 COUNT 3 STREAMS a 0", errMaxCountBelowCount},
		{"XREAD MAXCOUNT 2 COUNT 3 a 0", errSyntax},               // syntax before the COUNT check
		{"XREAD MAXCOUNT 2 COUNT 3 STREAMS a b 0", errUnbalanced}, // options in order
		{"XREAD MAXCOUNT 0 COUNT x STREAMS a 0", errMaxCount},
		{"XREADGROUP GROUP g c MAXCOUNT 0 STREAMS a >", errMaxCount},
		{"XREADGROUP GROUP g c MAXSIZE -5 STREAMS a >", errMaxSize},
		{"XREADGROUP GROUP g c COUNT 5 MAXCOUNT 4 STREAMS a >", errMaxCountBelowCount},
		{"XREADGROUP MAXCOUNT 4 COUNT 5 STREAMS a >", errMissingGroup},
		{"XREADGROUP GROUP g c MAXSIZE 1 CLAIM -1 STREAMS a >", errReadClaimIdle},
	}
	for _, c := range cmds {
		r, ok := Validate(args(c.cmd))
		if ok || r.Str != c.want {
			t.Errorf("Validate(%s) = %q, %v; want %q", c.cmd, r.Str, ok, c.want)
		}
		if got := do(New(), 0, args(c.cmd)); got.Str != c.want {
			t.Errorf("%s = %q; want %q", c.cmd, got.Str, c.want)
		}
	}
	for _, cmd := range []string{
		"XREAD COUNT 2 MAXCOUNT 2 MAXSIZE 1 BLOCK 0 STREAMS a $",
		"XREAD COUNT 0 MAXCOUNT 1 STREAMS a 0",
		"XREADGROUP GROUP g c COUNT 1 MAXCOUNT 1 MAXSIZE 9223372036854775807 CLAIM 5 NOACK STREAMS a >",
	} {
		if r, ok := Validate(args(cmd)); !ok {
			t.Errorf("Validate(%s) = %s; want valid", cmd, compact(r))
		}
	}
}

func TestXReadGroupLimits(t *testing.T) {
	groups := append(append([]step{}, limitSetup...),
		step{0, "XGROUP CREATE a g 0", "+OK"},
		step{0, "XGROUP CREATE b g 0", "+OK"},
		step{0, "XGROUP CREATE c g 0", "+OK"})
	cases := []struct {
		name  string
		steps []step
	}{
		{"MAXCOUNT: later streams untouched", []step{
			{10, "XREADGROUP GROUP g x COUNT 2 MAXCOUNT 3 STREAMS a b c > > >", "{a:[[1-1 [f 1]] [1-2 [f 2]]] b:[[2-1 [g 4]]]}"},
			{10, "XPENDING b g", "[:1 2-1 2-1 [[x 1]]]"},
			{10, "XINFO CONSUMERS c g", "[]"}, // c's consumer never created
			{10, "XREADGROUP GROUP g x STREAMS c >", "{c:[[3-1 [h 6]]]}"},
		}},
		{"MAXSIZE: one entry always", []step{
			{10, "XREADGROUP GROUP g x MAXSIZE 1 STREAMS a b > >", "{a:[[1-1 [f 1]]]}"},
			{10, "XPENDING a g", "[:1 1-1 1-1 [[x 1]]]"},
			{10, "XREADGROUP GROUP g x MAXSIZE 43 STREAMS a b > >", "{a:[[1-2 [f 2]] [1-3 [f 3]]]}"},
			{10, "XREADGROUP GROUP g x MAXSIZE 1 NOACK STREAMS a b > >", "{b:[[2-1 [g 4]]]}"},
			{10, "XPENDING b g", "[:0 nil nil *nil]"},
		}},
		{"history: MAXCOUNT and MAXSIZE", []step{
			{10, "XREADGROUP GROUP g x STREAMS a b > >", "{a:[[1-1 [f 1]] [1-2 [f 2]] [1-3 [f 3]]] b:[[2-1 [g 4]] [2-2 [g 5]]]}"},
			{10, "XDEL a 1-1", ":1"},
			{20, "XREADGROUP GROUP g x MAXCOUNT 2 STREAMS a b 0 0", "{a:[[1-1 *nil] [1-2 [f 2]]]}"},
			{20, "XPENDING a g - + 10", "[[1-1 x :10 :1] [1-2 x :0 :2] [1-3 x :10 :1]]"},
			{20, "XPENDING b g - + 10", "[[2-1 x :10 :1] [2-2 x :10 :1]]"},
			// a: header 11 + [1-1 *nil] 18 = 29, then 31 for 1-2: 60.
			{30, "XREADGROUP GROUP g x MAXSIZE 30 STREAMS a b 0 0", "{a:[[1-1 *nil] [1-2 [f 2]]]}"},
			{30, "XREADGROUP GROUP g x MAXSIZE 29 STREAMS a b 0 0", "{a:[[1-1 *nil]]}"},
			{30, "XREADGROUP GROUP g x MAXSIZE 91 STREAMS a b 0 0", "{a:[[1-1 *nil] [1-2 [f 2]] [1-3 [f 3]]]}"},
			// 91 + b's header 11 = 102 >= 92: a history stream stays, empty.
			{30, "XREADGROUP GROUP g x MAXSIZE 92 STREAMS a b 0 0", "{a:[[1-1 *nil] [1-2 [f 2]] [1-3 [f 3]]] b:[]}"},
			{30, "XREADGROUP GROUP g x MAXSIZE 103 STREAMS a b 0 0", "{a:[[1-1 *nil] [1-2 [f 2]] [1-3 [f 3]]] b:[[2-1 [g 4]]]}"},
			{30, "XREADGROUP GROUP g y MAXCOUNT 1 STREAMS c b > 0", "{c:[[3-1 [h 6]]]}"},
			{30, "XINFO CONSUMERS b g", "[{name:x pending::2 idle::0 inactive::20}]"},
		}},
		{"CLAIM: claimed and new entries share the caps", []step{
			{10, "XREADGROUP GROUP g x COUNT 2 STREAMS a b > >", "{a:[[1-1 [f 1]] [1-2 [f 2]]] b:[[2-1 [g 4]] [2-2 [g 5]]]}"},
			{100, "XREADGROUP GROUP g y MAXCOUNT 3 CLAIM 50 STREAMS a b > >", "{a:[[1-1 [f 1] :90 :1] [1-2 [f 2] :90 :1] [1-3 [f 3] :0 :0]]}"},
			{200, "XREADGROUP GROUP g z MAXSIZE 1 CLAIM 50 STREAMS a b > >", "{a:[[1-1 [f 1] :100 :2]]}"},
			{200, "XPENDING b g", "[:2 2-1 2-2 [[x 2]]]"},
			// a's header 11 + 41 per claimed entry ([id fields :200 :2]).
			{300, "XREADGROUP GROUP g z MAXSIZE 52 CLAIM 50 STREAMS a b > >", "{a:[[1-2 [f 2] :200 :2]]}"},
			{300, "XREADGROUP GROUP g z MAXSIZE 53 CLAIM 50 STREAMS a b > >", "{a:[[1-3 [f 3] :200 :1] [1-1 [f 1] :100 :3]]}"},
			{300, "XREADGROUP GROUP g z MAXSIZE 1 CLAIM 50 STREAMS a b > >", "{b:[[2-1 [g 4] :290 :1]]}"},
			// a: 11+41+41+41 = 134; b's header: 145; 2-2: 186 >= 186.
			{400, "XREADGROUP GROUP g z MAXSIZE 186 CLAIM 50 STREAMS a b > >",
				"{a:[[1-1 [f 1] :100 :4] [1-2 [f 2] :100 :3] [1-3 [f 3] :100 :2]] b:[[2-2 [g 5] :390 :1]]}"},
			{400, "XPENDING b g - + 10", "[[2-1 z :100 :2] [2-2 z :0 :2]]"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New()
			runSteps(t, m, append(append([]step{}, groups...), c.steps...))
			checkGroupInvariants(t, m)
		})
	}
}

// TestResp2Size: the size MAXSIZE charges is the RESP2 rendering's length.
func TestResp2Size(t *testing.T) {
	m := New()
	runSteps(t, m, limitSetup)
	runSteps(t, m, []step{{0, "XGROUP CREATE a g 0", "+OK"}, {0, "XDEL a 1-2", ":1"}})
	for _, cmd := range []string{
		"XREAD STREAMS a b c 0 0 0",
		"XREADGROUP GROUP g x STREAMS a >",
		"XREADGROUP GROUP g x CLAIM 0 STREAMS a >",
		"XADD a 1-1 f v",
		"XPENDING a g - + 10",
		"XINFO STREAM a",
		"XREADGROUP GROUP g x STREAMS a 0",
		"XREAD STREAMS nokey 0",
	} {
		r := do(m, 5, args(cmd))
		if got, want := resp2Size(r), int64(len(render(r))); got != want {
			t.Errorf("resp2Size(%s) = %d; want %d", cmd, got, want)
		}
	}
	// A stream's header is what the pair costs beyond its entries.
	b := newBudget(readLimits{maxSize: 1})
	b.open([]byte("key"))
	pair := render(Pairs(BulkString("key"), Array())) // *1 *2 $3 key *0
	if got, want := b.bytes, int64(len(pair)-len("*1\r\n")-len("*0\r\n")); got != want {
		t.Errorf("header bytes = %d; want %d", got, want)
	}
}

// TestLimitsBlocking: the blocking helpers parse the new options.
func TestLimitsBlocking(t *testing.T) {
	m := New()
	runSteps(t, m, limitSetup)
	runSteps(t, m, []step{{0, "XGROUP CREATE a g $", "+OK"}})
	timeout, keys, ok := Blocking(args("XREAD MAXCOUNT 2 MAXSIZE 10 BLOCK 7 STREAMS a b $ $"))
	if timeout != 7 || !reflect.DeepEqual(keys, []string{"a", "b"}) || !ok {
		t.Errorf("Blocking(XREAD) = %d, %q, %v; want 7, [a b], true", timeout, keys, ok)
	}
	timeout, keys, ok = Blocking(args("XREADGROUP GROUP g c MAXCOUNT 2 BLOCK 0 MAXSIZE 10 STREAMS a >"))
	if timeout != 0 || !reflect.DeepEqual(keys, []string{"a"}) || !ok {
		t.Errorf("Blocking(XREADGROUP) = %d, %q, %v; want 0, [a], true", timeout, keys, ok)
	}
	got := joinArgs(pinBlock(m, args("XREAD MAXSIZE 10 BLOCK 0 STREAMS a $")))
	if want := "XREAD MAXSIZE 10 BLOCK 0 STREAMS a 1-3"; got != want {
		t.Errorf("PrepareBlock = %s; want %s", got, want)
	}
	if r, answered := m.TryRead(args("XREADGROUP GROUP g c MAXCOUNT 1 BLOCK 0 STREAMS a >"), 0); !answered || r.Kind != KindNullArray {
		t.Errorf("TryRead = %s, %v; want *nil, true", compact(r), answered)
	}
}
