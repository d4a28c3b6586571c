package fsm

import (
	"reflect"
	"testing"
)

func cmds(lines ...string) [][][]byte {
	out := make([][][]byte, len(lines))
	for i, l := range lines {
		out[i] = args(l)
	}
	return out
}

func TestApplyMulti(t *testing.T) {
	m := New()
	replies, sig := m.Apply(&Entry{Stamp: 5, Reqs: []Request{
		{Cmds: cmds("XADD a * f 1")},
		{Multi: true, Cmds: cmds("XADD b * f 1", "XADD b 1-1 f 2", "XLEN b", "XADD a * f 3", "NOPE")},
		{Multi: true},
		{Cmds: cmds("XADD c 1-1 f")},
	}})
	want := []string{
		"5-0",
		"[5-0 -" + errXAddSmaller + " :1 5-1 -ERR unknown command 'NOPE', with args beginning with: ]",
		"[]",
		"-ERR wrong number of arguments for 'xadd' command",
	}
	for i, r := range replies {
		if got := compact(r); got != want[i] {
			t.Errorf("reply %d = %s; want %s", i, got, want[i])
		}
	}
	if !reflect.DeepEqual(sig, []string{"a", "b"}) {
		t.Errorf("signalled = %q; want [a b]", sig)
	}
}

func TestSignalled(t *testing.T) {
	m := New()
	do(m, 1, args("XADD x 1-1 f v"))
	do(m, 1, args("XADD y 1-1 f v"))
	_, sig := m.Apply(&Entry{Stamp: 9, Reqs: []Request{
		{Cmds: cmds("XADD b * f 1")},
		{Cmds: cmds("XADD a * f 1")},
		{Cmds: cmds("XADD b * f 1")},
		{Cmds: cmds("XLEN a")},
		{Cmds: cmds("DEL x nokey")},
		{Cmds: cmds("XADD a 1-1 f 1")}, // fails: not signalled again anyway
		{Cmds: cmds("XADD n NOMKSTREAM * f 1")},
		{Cmds: cmds("FLUSHALL")},
	}})
	if want := []string{"b", "a", "x", "y"}; !reflect.DeepEqual(sig, want) {
		t.Errorf("signalled = %q; want %q", sig, want)
	}
}

func TestWatch(t *testing.T) {
	m := New()
	do(m, 1, args("XADD s 1-1 f v"))
	tests := []struct {
		name   string
		key    string
		change string // applied between WATCH and EXEC
		abort  bool
	}{
		{"untouched", "s", "XADD other 1-1 f v", false},
		{"written", "s", "XADD s * f v", true},
		{"trimmed", "s", "XTRIM s MAXLEN 0", true},
		{"noop trim", "s", "XTRIM s MAXLEN 100", false},
		{"failed write", "s", "XADD s 1-1 f v", false},
		{"read", "s", "XRANGE s - +", false},
		{"deleted", "s", "DEL s", true},
		{"recreated", "s", "XADD s 1-1 f v", true},
		{"missing key created", "new", "XADD new 1-1 f v", true},
		{"missing key stays missing", "never", "XADD zz 1-1 f v", false},
		{"flushed", "s", "FLUSHALL", true},
		{"created then deleted", "t", "XADD t 5-5 f v", true},
	}
	for i, tt := range tests {
		v := m.KeyVersion(tt.key)
		do(m, int64(10+i), args(tt.change))
		replies, _ := m.Apply(&Entry{Stamp: 100, Reqs: []Request{{
			Multi: true, Cmds: cmds("EXISTS " + tt.key),
			Watch: []Watched{{Key: []byte(tt.key), Version: v}},
		}}})
		if aborted := replies[0].Kind == KindNullArray; aborted != tt.abort {
			t.Errorf("%s: aborted = %v; want %v (reply %s)", tt.name, aborted, tt.abort, compact(replies[0]))
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cmd  string
		want string // "" means valid
	}{
		{"XADD s * f v", ""},
		{"xadd s MAXLEN ~ 10 LIMIT 5 1-* f v", ""},
		{"XADD s 0-0 f v", "-" + errXAddZero},
		{"XADD s * f", "-ERR wrong number of arguments for 'xadd' command"},
		{"XADD s MAXLEN x * f v", "-" + errNotInt},
		{"XTRIM s LIMIT 5", "-" + errLimitNoStrat},
		{"XDEL nokey bad-id", ""}, // a missing key answers 0 before the IDs are parsed
		{"XSETID s x", "-" + errInvalidID},
		{"XRANGE s (- +", "-" + errInvalidID},
		{"XREAD STREAMS a", "-ERR wrong number of arguments for 'xread' command"},
		{"XREAD BLOCK -1 STREAMS a $", "-" + errTimeoutNeg},
		{"SCAN x", "-" + errInvalidCursor},
		{"FLUSHALL now", "-" + errSyntax},
		{"TYPE a b", "-ERR wrong number of arguments for 'type' command"},
		{"FOO a b", "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' "},
	}
	for _, tt := range tests {
		r, ok := Validate(args(tt.cmd))
		got := ""
		if !ok {
			got = compact(r)
		}
		if got != tt.want {
			t.Errorf("Validate(%s) = %s; want %q", tt.cmd, got, tt.want)
		}
		if !ok {
			if applied := compact(do(New(), 1, args(tt.cmd))); applied != got {
				t.Errorf("Apply(%s) = %s; want Validate's %s", tt.cmd, applied, got)
			}
		}
	}
}

func TestReadRefusesWrites(t *testing.T) {
	m := New()
	if r := m.Read(args("XADD s * f v"), 0); !r.IsError() {
		t.Fatalf("Read(XADD) = %s; want an error", compact(r))
	}
	if got := compact(m.Read(args("DBSIZE"), 0)); got != ":0" {
		t.Fatalf("DBSIZE = %s; want :0", got)
	}
}

func TestUnknownCommand(t *testing.T) {
	long := make([]byte, 200)
	for i := range long {
		long[i] = 'x'
	}
	argv := [][]byte{[]byte("foo"), []byte("a\r\nb"), long, []byte("c")}
	want := "-ERR unknown command 'foo', with args beginning with: 'a  b' '" + string(long[:121]) + "' "
	if got := compact(New().Read(argv, 0)); got != want {
		t.Errorf("unknown = %q; want %q", got, want)
	}
	if got := compact(New().Read(nil, 0)); got == "" || got[0] != '-' {
		t.Errorf("empty argv = %q; want an error", got)
	}
}
