package fsm

import "testing"

func TestXGroup(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XGROUP", "-ERR wrong number of arguments for 'xgroup' command"},
		{1, "XGROUP FOO a", "-ERR unknown subcommand 'FOO'. Try XGROUP HELP."},
		{1, "XGROUP CREATE s", "-ERR wrong number of arguments for 'xgroup|create' command"},
		{1, "XGROUP DESTROY s g x", "-ERR wrong number of arguments for 'xgroup|destroy' command"},
		{1, "XGROUP CREATE s g 0", "-" + errXGroupNoKey},
		{1, "XGROUP CREATE s g 0 FOO", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."},
		{1, "XGROUP CREATE s g 0 ENTRIESREAD -2", "-ERR value for ENTRIESREAD must be positive or -1"},
		{1, "XGROUP CREATE s g 0 ENTRIESREAD x", "-" + errNotInt},
		{1, "XGROUP CREATE s g x MKSTREAM", "-" + errInvalidID},
		{1, "EXISTS s", ":0"},
		{1, "XGROUP CREATE s g $ MKSTREAM", "+OK"},
		{1, "XGROUP CREATE s g 0", "-BUSYGROUP Consumer Group name already exists"},
		{1, "XGROUP SETID s nog 0", "-NOGROUP No such consumer group 'nog' for key name 's'"},
		{1, "XGROUP CREATECONSUMER s nog c", "-NOGROUP No such consumer group 'nog' for key name 's'"},
		{1, "XGROUP DELCONSUMER s nog c", "-NOGROUP No such consumer group 'nog' for key name 's'"},
		{1, "XGROUP DESTROY s nog", ":0"},
		{1, "XGROUP SETID s g 0 MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."},
		{1, "XGROUP SETID s g x", "-" + errInvalidID},
		{1, "XGROUP SETID s g + ENTRIESREAD 7", "+OK"},
		{1, "XINFO GROUPS s", "[{name:g consumers::0 pending::0 last-delivered-id:18446744073709551615-18446744073709551615 entries-read::7 lag::0}]"},
		{5, "XGROUP CREATECONSUMER s g alice", ":1"},
		{6, "XGROUP CREATECONSUMER s g alice", ":0"},
		{9, "XINFO CONSUMERS s g", "[{name:alice pending::0 idle::4 inactive::-1}]"},
		{9, "XADD s 1-1 f v", "1-1"},
		{9, "XGROUP SETID s g 0", "+OK"},
		{9, "XREADGROUP GROUP g alice STREAMS s >", "{s:[[1-1 [f v]]]}"},
		{9, "XGROUP DELCONSUMER s g alice", ":1"},
		{9, "XGROUP DELCONSUMER s g alice", ":0"},
		{9, "XPENDING s g", "[:0 nil nil *nil]"},
		{9, "XGROUP CREATE s a 1-1 ENTRIESREAD 1", "+OK"},
		{9, "XGROUP CREATE s B 0", "+OK"},
		{9, "XINFO STREAM s", "{length::1 radix-tree-keys::1 radix-tree-nodes::2 last-generated-id:1-1 max-deleted-entry-id:0-0 entries-added::1 recorded-first-entry-id:1-1 idmp-duration::100 idmp-maxsize::100 pids-tracked::0 iids-tracked::0 iids-added::0 iids-duplicates::0 groups::3 first-entry:[1-1 [f v]] last-entry:[1-1 [f v]]}"},
		{9, "XGROUP DESTROY s g", ":1"},
		{9, "XGROUP HELP x", "-ERR wrong number of arguments for 'xgroup|help' command"},
	})
	if got := compact(do(m, 1, args("XGROUP HELP"))); len(got) < 100 || got[:60] != "[+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands" {
		t.Fatalf("XGROUP HELP = %.80s; want the help text", got)
	}
}

// TestXGroupSignals checks what XGROUP wakes: DESTROY of an existing group
// signals the key (blocked XREADGROUP clients re-run and fail); other
// subcommands do not. MKSTREAM creates a key with a new version.
func TestXGroupSignals(t *testing.T) {
	m := New()
	v0 := m.KeyVersion("s")
	tests := []struct {
		cmd  string
		want []string
	}{
		{"XGROUP CREATE s g 0 MKSTREAM", nil},
		{"XGROUP CREATECONSUMER s g c", nil},
		{"XGROUP DESTROY s nog", nil},
		{"XGROUP DESTROY s g", []string{"s"}},
	}
	for _, tt := range tests {
		_, sig := m.Apply(&Entry{Stamp: 1, Reqs: []Request{{Cmds: [][][]byte{args(tt.cmd)}}}})
		if len(sig) != len(tt.want) || (len(sig) == 1 && sig[0] != tt.want[0]) {
			t.Errorf("%s signalled %q; want %q", tt.cmd, sig, tt.want)
		}
	}
	if m.KeyVersion("s") == v0 {
		t.Errorf("KeyVersion(s) = %d after MKSTREAM; want a new version", v0)
	}
}

// TestXGroupHelpIsRead: XGROUP HELP goes through Read, the others through
// Apply.
func TestXGroupHelpIsRead(t *testing.T) {
	m := New()
	if IsWrite(args("XGROUP HELP")) || !IsWrite(args("XGROUP CREATE s g 0")) || !IsWrite(args("XGROUP HELP x")) {
		t.Fatal("IsWrite: XGROUP HELP must be a read, other XGROUP forms writes")
	}
	want := len(xgroupHelp) + len(dlqHelp)
	if r := m.Read(args("xgroup help"), 0); len(r.Elems) != want || r.Elems[want-2].Str != dlqHelp[0] {
		t.Fatalf("Read(XGROUP HELP) = %.60s; want %d lines ending with SETDLQ's", compact(r), want)
	}
	if r := m.Read(args("XGROUP CREATE s g 0 MKSTREAM"), 0); r.Str != "ERR write command 'xgroup' sent to Read" {
		t.Fatalf("Read(XGROUP CREATE) = %s; want the write-sent-to-Read error", compact(r))
	}
}
