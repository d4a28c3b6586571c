package fsm

import (
	"reflect"
	"testing"
)

func TestXRead(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{0, "XADD a 1-1 f 1", "1-1"},
		{0, "XADD a 1-2 f 2", "1-2"},
		{0, "XADD b 5-0 g 3", "5-0"},
	})
	tests := []struct{ cmd, want string }{
		{"XREAD STREAMS a 0", "{a:[[1-1 [f 1]] [1-2 [f 2]]]}"},
		{"XREAD COUNT 1 STREAMS a b 0 0", "{a:[[1-1 [f 1]]] b:[[5-0 [g 3]]]}"},
		{"XREAD STREAMS a b 1-2 0", "{b:[[5-0 [g 3]]]}"},
		{"XREAD STREAMS a nokey b 1-1 0 5", "{a:[[1-2 [f 2]]]}"},
		{"XREAD STREAMS a b 1-2 5", "*nil"},
		{"XREAD STREAMS a $", "*nil"},
		{"XREAD BLOCK 100 STREAMS a 0", "{a:[[1-1 [f 1]] [1-2 [f 2]]]}"},
		{"XREAD BLOCK 0 STREAMS a $", "*nil"},
		{"XREAD STREAMS a +", "{a:[[1-2 [f 2]]]}"},
		{"XREAD COUNT 5 STREAMS a b + +", "{a:[[1-2 [f 2]]] b:[[5-0 [g 3]]]}"},
		{"XREAD STREAMS nokey +", "*nil"},
		{"XREAD COUNT -1 STREAMS a 1-1", "{a:[[1-2 [f 2]]]}"},
		{"XREAD STREAMS a", "-ERR wrong number of arguments for 'xread' command"},
		{"XREAD STREAMS a b 0", "-" + errUnbalanced},
		{"XREAD GROUP g c STREAMS a 0", "-" + errGroupInXRead},
		{"XREAD NOACK STREAMS a 0", "-" + errNoAckInXRead},
		{"XREAD STREAMS a >", "-" + errGtInXRead},
		{"XREAD BLOCK -1 STREAMS a 0", "-" + errTimeoutNeg},
		{"XREAD BLOCK x STREAMS a 0", "-" + errTimeoutNotInt},
		{"XREAD COUNT x STREAMS a 0", "-" + errNotInt},
		{"XREAD COUNT 1 a 0", "-" + errSyntax},
		{"XREAD STREAMS a 1-x", "-" + errInvalidID},
	}
	for _, tt := range tests {
		if got := compact(do(m, 0, args(tt.cmd))); got != tt.want {
			t.Errorf("%s = %s; want %s", tt.cmd, got, tt.want)
		}
	}
	// As in Redis 7.4, + reads after last_id-1: a deleted top entry gives
	// nothing for that stream.
	do(m, 0, args("XDEL a 1-2"))
	if got, want := compact(do(m, 0, args("XREAD STREAMS a b + +"))), "{b:[[5-0 [g 3]]]}"; got != want {
		t.Errorf("XREAD + after XDEL = %s; want %s", got, want)
	}
}

func TestBlocking(t *testing.T) {
	tests := []struct {
		cmd     string
		timeout int64
		keys    []string
		ok      bool
	}{
		{"XREAD BLOCK 100 STREAMS a b $ 0", 100, []string{"a", "b"}, true},
		{"xread count 1 block 0 streams a $", 0, []string{"a"}, true},
		{"XREAD STREAMS a $", 0, nil, false},
		{"XRANGE a - +", 0, nil, false},
		{"XREAD BLOCK -1 STREAMS a $", 0, nil, false},
	}
	for _, tt := range tests {
		timeout, keys, ok := Blocking(args(tt.cmd))
		if timeout != tt.timeout || !reflect.DeepEqual(keys, tt.keys) || ok != tt.ok {
			t.Errorf("Blocking(%s) = %d, %q, %v; want %d, %q, %v", tt.cmd, timeout, keys, ok, tt.timeout, tt.keys, tt.ok)
		}
	}
}

func TestPrepareBlock(t *testing.T) {
	m := New()
	do(m, 0, args("XADD a 7-3 f 1"))
	do(m, 0, args("XADD e 1-1 f 1"))
	do(m, 0, args("XDEL e 1-1"))
	tests := []struct{ cmd, want string }{
		{"XREAD BLOCK 0 STREAMS a nokey $ $", "XREAD BLOCK 0 STREAMS a nokey 7-3 0-0"},
		{"XREAD BLOCK 0 STREAMS a 1-1", "XREAD BLOCK 0 STREAMS a 1-1"},
		{"XREAD BLOCK 0 STREAMS a e nokey + + +", "XREAD BLOCK 0 STREAMS a e nokey + 1-1 0-0"},
	}
	for _, tt := range tests {
		argv := args(tt.cmd)
		got := pinBlock(m, argv)
		if string(joinArgs(got)) != tt.want {
			t.Errorf("PrepareBlock(%s) = %s; want %s", tt.cmd, joinArgs(got), tt.want)
		}
		if string(joinArgs(argv)) != tt.cmd {
			t.Errorf("PrepareBlock modified its argument: %s", joinArgs(argv))
		}
	}
	// After the wake-up the prepared command returns the new entry.
	prepared := pinBlock(m, args("XREAD BLOCK 0 STREAMS a $"))
	do(m, 0, args("XADD a 8-0 f 2"))
	if got, want := compact(m.Read(prepared, 0)), "{a:[[8-0 [f 2]]]}"; got != want {
		t.Errorf("prepared XREAD = %s; want %s", got, want)
	}
}

func joinArgs(argv [][]byte) string {
	var s []byte
	for i, a := range argv {
		if i > 0 {
			s = append(s, ' ')
		}
		s = append(s, a...)
	}
	return string(s)
}

func TestReadOrPrepare(t *testing.T) {
	m := New()
	do(m, 0, args("XADD a 7-3 f 1"))
	r, prepared := m.ReadOrPrepare(args("XREAD BLOCK 0 STREAMS a $"), 0)
	if got, want := compact(r)+" "+joinArgs(prepared), "*nil XREAD BLOCK 0 STREAMS a 7-3"; got != want {
		t.Errorf("ReadOrPrepare($) = %s; want %s", got, want)
	}
	r, prepared = m.ReadOrPrepare(args("XREAD BLOCK 0 STREAMS a 0"), 0)
	if got, want := compact(r), "{a:[[7-3 [f 1]]]}"; got != want || prepared != nil {
		t.Errorf("ReadOrPrepare(0) = %s, %q; want %s, nil", got, prepared, want)
	}
}
