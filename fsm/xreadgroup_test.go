package fsm

import (
	"reflect"
	"testing"
)

func TestXReadGroup(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XREADGROUP GROUP g c STREAMS s", "-ERR wrong number of arguments for 'xreadgroup' command"},
		{1, "XREADGROUP COUNT 1 NOACK BLOCK 5 STREAMS s >", "-" + errMissingGroup},
		{1, "XREADGROUP GROUP g c STREAMS s t >", "-" + errUnbalanced},
		{1, "XREADGROUP GROUP g c BLOCK -1 STREAMS s >", "-" + errTimeoutNeg},
		{1, "XREADGROUP GROUP g c BLOCK x STREAMS s >", "-" + errTimeoutNotInt},
		{1, "XREADGROUP GROUP g c COUNT x STREAMS s >", "-" + errNotInt},
		{1, "XREADGROUP GROUP g c FOO STREAMS s >", "-" + errSyntax},
		{1, "XREADGROUP GROUP g c STREAMS s >", "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"},
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XADD s 1-3 a 3", "1-3"},
		{1, "XADD t 2-1 b 1", "2-1"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XGROUP CREATE t g $", "+OK"},
		{1, "XREADGROUP GROUP g c STREAMS s $", "-" + errDollarInGroup},
		{1, "XREADGROUP GROUP g c STREAMS s +", "-" + errInvalidID},
		{1, "XREADGROUP GROUP g c STREAMS s 1-x", "-" + errInvalidID},
		{1, "XREADGROUP GROUP g c STREAMS s u > >", "-NOGROUP No such key 'u' or consumer group 'g' in XREADGROUP with GROUP option"},
		// History of a consumer that does not exist yet: created, empty.
		{1, "XREADGROUP GROUP g c STREAMS s 0", "{s:[]}"},
		{10, "XREADGROUP GROUP g c COUNT 2 STREAMS s >", "{s:[[1-1 [a 1]] [1-2 [a 2]]]}"},
		{20, "XREADGROUP GROUP g d NOACK STREAMS s t > >", "{s:[[1-3 [a 3]]]}"},
		{20, "XREADGROUP GROUP g d STREAMS s t > >", "*nil"},
		{30, "XPENDING s g - + 10", "[[1-1 c :20 :1] [1-2 c :20 :1]]"},
		{30, "XDEL s 1-1", ":1"},
		{40, "XREADGROUP GROUP g c STREAMS s 0", "{s:[[1-1 *nil] [1-2 [a 2]]]}"},
		{40, "XREADGROUP GROUP g c COUNT 1 STREAMS s 1-1", "{s:[[1-2 [a 2]]]}"},
		{50, "XPENDING s g - + 10", "[[1-1 c :40 :1] [1-2 c :10 :3]]"},
		// SETID back: a re-delivered pending entry moves to the reader with
		// its count reset to 1.
		{50, "XGROUP SETID s g 0", "+OK"},
		{60, "XREADGROUP GROUP g d COUNT 1 STREAMS s >", "{s:[[1-2 [a 2]]]}"},
		{60, "XPENDING s g - + 10", "[[1-1 c :50 :1] [1-2 d :0 :1]]"},
		{60, "XPENDING s g", "[:2 1-1 1-2 [[c 1] [d 1]]]"},
		{70, "XINFO CONSUMERS s g", "[{name:c pending::1 idle::30 inactive::60} {name:d pending::1 idle::10 inactive::10}]"},
		// The largest ID is how Redis stores ">": new entries, not history.
		{70, "XREADGROUP GROUP g d STREAMS s 18446744073709551615-18446744073709551615", "{s:[[1-3 [a 3]]]}"},
		{70, "XREADGROUP GROUP g d STREAMS s 18446744073709551615-18446744073709551614", "{s:[]}"},
	})
}

func TestXReadGroupEntriesRead(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XADD s 1-3 a 3", "1-3"},
		{1, "XADD s 1-4 a 4", "1-4"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XINFO GROUPS s", "[{name:g consumers::0 pending::0 last-delivered-id:0-0 entries-read:nil lag::4}]"},
		{1, "XREADGROUP GROUP g c COUNT 1 STREAMS s >", "{s:[[1-1 [a 1]]]}"},
		{1, "XINFO GROUPS s", "[{name:g consumers::1 pending::1 last-delivered-id:1-1 entries-read::1 lag::3}]"},
		{1, "XDEL s 1-3", ":1"},
		{1, "XINFO GROUPS s", "[{name:g consumers::1 pending::1 last-delivered-id:1-1 entries-read::1 lag:nil}]"},
		{1, "XREADGROUP GROUP g c COUNT 1 STREAMS s >", "{s:[[1-2 [a 2]]]}"},
		{1, "XINFO GROUPS s", "[{name:g consumers::1 pending::2 last-delivered-id:1-2 entries-read:nil lag:nil}]"},
		{1, "XREADGROUP GROUP g c STREAMS s >", "{s:[[1-4 [a 4]]]}"},
		{1, "XINFO GROUPS s", "[{name:g consumers::1 pending::3 last-delivered-id:1-4 entries-read::4 lag::0}]"},
	})
}

func TestTryRead(t *testing.T) {
	m := New()
	for _, c := range []string{"XADD s 1-1 a 1", "XGROUP CREATE s g 0", "XADD t 1-1 a 1", "XGROUP CREATE t g $"} {
		do(m, 1, args(c))
	}
	tests := []struct {
		cmd    string
		want   string
		answer bool
	}{
		{"XREADGROUP GROUP g c STREAMS t >", "*nil", true},
		{"XREADGROUP GROUP g c BLOCK 0 STREAMS t >", "*nil", true},
		{"XREADGROUP GROUP g c STREAMS s >", "", false},     // new entries
		{"XREADGROUP GROUP g c STREAMS t 0", "", false},     // history
		{"XREADGROUP GROUP g c STREAMS t s > >", "", false}, // s has new entries
		{"XREADGROUP GROUP nog c STREAMS t >", "-NOGROUP No such key 't' or consumer group 'nog' in XREADGROUP with GROUP option", true},
		{"XREADGROUP GROUP g c STREAMS t $", "-" + errDollarInGroup, true},
		{"xreadgroup.retry GROUP nog c STREAMS t >", "-" + errBlockedNoGroup, true},
		{"xreadgroup.retry GROUP g c STREAMS nokey >", "-" + errBlockedNoKey, true},
		{"XREAD STREAMS t 0", "", false},
	}
	for _, tt := range tests {
		r, ok := m.TryRead(args(tt.cmd), 5)
		if ok != tt.answer || (ok && compact(r) != tt.want) {
			t.Errorf("TryRead(%s) = %s, %v; want %s, %v", tt.cmd, compact(r), ok, tt.want, tt.answer)
		}
	}
	// An answered TryRead must leave the state alone: no consumer appears.
	if got := compact(do(m, 9, args("XINFO CONSUMERS t g"))); got != "[]" {
		t.Fatalf("XINFO CONSUMERS after TryRead = %s; want []", got)
	}
}

func TestBlockingReadGroup(t *testing.T) {
	tests := []struct {
		cmd     string
		timeout int64
		keys    []string
		ok      bool
	}{
		{"XREADGROUP GROUP g c BLOCK 100 STREAMS s t > >", 100, []string{"s", "t"}, true},
		{"XREADGROUP GROUP g c BLOCK 0 COUNT 2 NOACK STREAMS s >", 0, []string{"s"}, true},
		{"XREADGROUP GROUP g c BLOCK 100 STREAMS s t > 0", 0, nil, false},
		{"XREADGROUP GROUP g c STREAMS s >", 0, nil, false},
		{"XREADGROUP GROUP g c BLOCK 100 STREAMS s", 0, nil, false},
	}
	for _, tt := range tests {
		timeout, keys, ok := Blocking(args(tt.cmd))
		if timeout != tt.timeout || ok != tt.ok || !reflect.DeepEqual(keys, tt.keys) {
			t.Errorf("Blocking(%s) = %d, %q, %v; want %d, %q, %v", tt.cmd, timeout, keys, ok, tt.timeout, tt.keys, tt.ok)
		}
	}
}

// TestBlockedRetry: a re-run blocked XREADGROUP gets Redis 7.0's blocked
// errors when its key or group vanished; a fresh one the normal NOGROUP;
// clients cannot send the internal name.
func TestBlockedRetry(t *testing.T) {
	argv := args("XREADGROUP GROUP g c BLOCK 0 STREAMS s >")
	retry := BlockedRetry(argv)
	if string(argv[0]) != "XREADGROUP" {
		t.Fatalf("BlockedRetry modified its argument: %q", argv[0])
	}
	if r, ok := Validate(retry); ok || r.Str != "ERR unknown command 'xreadgroup.retry', with args beginning with: 'GROUP' 'g' 'c' 'BLOCK' '0' 'STREAMS' 's' '>' " {
		t.Fatalf("Validate(retry) = %s, %v; want the unknown-command error", compact(r), ok)
	}
	m := New()
	for _, c := range []string{"XADD s 1-1 a 1", "XGROUP CREATE s g $"} {
		do(m, 1, args(c))
	}
	apply := func(argv [][]byte) string {
		rs, _ := m.Apply(&Entry{Stamp: 2, Reqs: []Request{{Cmds: [][][]byte{argv}}}})
		return compact(rs[0])
	}
	if got := apply(retry); got != "*nil" {
		t.Fatalf("retry with nothing new = %s; want *nil", got)
	}
	do(m, 2, args("XADD s 1-2 a 2"))
	if got := apply(retry); got != "{s:[[1-2 [a 2]]]}" {
		t.Fatalf("retry after XADD = %s; want the entry", got)
	}
	do(m, 2, args("XGROUP DESTROY s g"))
	if got := apply(retry); got != "-"+errBlockedNoGroup {
		t.Fatalf("retry after DESTROY = %s; want %s", got, errBlockedNoGroup)
	}
	if got := apply(argv); got != "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option" {
		t.Fatalf("fresh XREADGROUP after DESTROY = %s; want NOGROUP", got)
	}
	_, sig := m.Apply(&Entry{Stamp: 2, Reqs: []Request{{Cmds: [][][]byte{args("DEL s")}}}})
	if len(sig) != 1 || sig[0] != "s" {
		t.Fatalf("DEL signalled %q; want [s]", sig)
	}
	if got := apply(retry); got != "-"+errBlockedNoKey {
		t.Fatalf("retry after DEL = %s; want %s", got, errBlockedNoKey)
	}
}

func TestXReadGroupMaxIDReadsNew(t *testing.T) {
	runSteps(t, New(), []step{
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XREADGROUP GROUP g c STREAMS s >", "{s:[[1-1 [a 1]]]}"},
		// The maximum ID is how Redis stores ">": nothing new, not history.
		{1, "XREADGROUP GROUP g c STREAMS s 18446744073709551615-18446744073709551615", "*nil"},
		{1, "XADD s 2-1 a 2", "2-1"},
		{1, "XREADGROUP GROUP g c STREAMS s 18446744073709551615-18446744073709551615", "{s:[[2-1 [a 2]]]}"},
	})
}
