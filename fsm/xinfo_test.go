package fsm

import (
	"fmt"
	"testing"
)

func TestXInfo(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XINFO", "-ERR wrong number of arguments for 'xinfo' command"},
		{1, "XINFO FOO", "-ERR unknown subcommand 'FOO'. Try XINFO HELP."},
		{1, "XINFO GROUPS", "-ERR wrong number of arguments for 'xinfo|groups' command"},
		{1, "XINFO CONSUMERS s", "-ERR wrong number of arguments for 'xinfo|consumers' command"},
		{1, "XINFO STREAM s", "-" + errNoSuchKey},
		{1, "XINFO GROUPS s", "-" + errNoSuchKey},
		{1, "XGROUP CREATE s g $ MKSTREAM", "+OK"},
		{1, "XINFO STREAM s", "{length::0 radix-tree-keys::0 radix-tree-nodes::1 last-generated-id:0-0 max-deleted-entry-id:0-0 entries-added::0 recorded-first-entry-id:0-0 idmp-duration::100 idmp-maxsize::100 pids-tracked::0 iids-tracked::0 iids-added::0 iids-duplicates::0 groups::1 first-entry:nil last-entry:nil}"},
		{1, "XINFO STREAM s FULL COUNT", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."},
		{1, "XINFO STREAM s FOO", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."},
		{1, "XINFO STREAM s FULL FOO 1", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."},
		{1, "XINFO STREAM s FULL COUNT x", "-" + errNotInt},
		{1, "XINFO CONSUMERS s nog", "-NOGROUP No such consumer group 'nog' for key name 's'"},
		{1, "XINFO CONSUMERS s g", "[]"},
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XGROUP CREATE s h 0", "+OK"},
		{1, "XINFO GROUPS s", "[{name:g consumers::0 pending::0 last-delivered-id:0-0 entries-read:nil lag::2} {name:h consumers::0 pending::0 last-delivered-id:0-0 entries-read:nil lag::2}]"},
		{10, "XREADGROUP GROUP g c COUNT 1 STREAMS s >", "{s:[[1-1 [a 1]]]}"},
		{20, "XGROUP CREATECONSUMER s g idler", ":1"},
		{35, "XINFO CONSUMERS s g", "[{name:c pending::1 idle::25 inactive::25} {name:idler pending::0 idle::15 inactive::-1}]"},
		{35, "XINFO STREAM s", "{length::2 radix-tree-keys::1 radix-tree-nodes::2 last-generated-id:1-2 max-deleted-entry-id:0-0 entries-added::2 recorded-first-entry-id:1-1 idmp-duration::100 idmp-maxsize::100 pids-tracked::0 iids-tracked::0 iids-added::0 iids-duplicates::0 groups::2 first-entry:[1-1 [a 1]] last-entry:[1-2 [a 2]]}"},
		{35, "XINFO STREAM s FULL", "{length::2 radix-tree-keys::1 radix-tree-nodes::2 last-generated-id:1-2 max-deleted-entry-id:0-0 entries-added::2 recorded-first-entry-id:1-1 idmp-duration::100 idmp-maxsize::100 pids-tracked::0 iids-tracked::0 iids-added::0 iids-duplicates::0 entries:[[1-1 [a 1]] [1-2 [a 2]]] groups:[" +
			"{name:g last-delivered-id:1-1 entries-read::1 lag::1 pel-count::1 pending:[[1-1 c :10 :1]] consumers:[{name:c seen-time::10 active-time::10 pel-count::1 pending:[[1-1 :10 :1]]} {name:idler seen-time::20 active-time::-1 pel-count::0 pending:[]}]} " +
			"{name:h last-delivered-id:0-0 entries-read:nil lag::2 pel-count::0 pending:[] consumers:[]}]}"},
		{35, "XINFO STREAM s FULL COUNT 1", "{length::2 radix-tree-keys::1 radix-tree-nodes::2 last-generated-id:1-2 max-deleted-entry-id:0-0 entries-added::2 recorded-first-entry-id:1-1 idmp-duration::100 idmp-maxsize::100 pids-tracked::0 iids-tracked::0 iids-added::0 iids-duplicates::0 entries:[[1-1 [a 1]]] groups:[" +
			"{name:g last-delivered-id:1-1 entries-read::1 lag::1 pel-count::1 pending:[[1-1 c :10 :1]] consumers:[{name:c seen-time::10 active-time::10 pel-count::1 pending:[[1-1 :10 :1]]} {name:idler seen-time::20 active-time::-1 pel-count::0 pending:[]}]} " +
			"{name:h last-delivered-id:0-0 entries-read:nil lag::2 pel-count::0 pending:[] consumers:[]}]}"},
		{35, "XINFO HELP", fmt.Sprint(compact(helpReply(xinfoHelp)))},
	})
}

// TestRaxNodes checks the radix-tree-nodes count against values Redis 7.0.15
// reported for the same block keys.
func TestRaxNodes(t *testing.T) {
	tests := []struct {
		firsts []ID
		want   int
	}{
		{nil, 1},
		{[]ID{{1, 1}}, 2},
		{[]ID{{1, 0}, {1, 1}}, 4},         // 15 common bytes, a branch, two leaves
		{[]ID{{1, 0}, {2, 0}, {3, 0}}, 8}, // common 7 bytes, branch, 3 x (compressed + leaf)
	}
	for _, tt := range tests {
		s := newStream()
		for _, id := range tt.firsts {
			s.blocks.Set(block{first: id, last: id})
		}
		if got := s.raxNodes(); got != tt.want {
			t.Errorf("raxNodes(%v) = %d; want %d", tt.firsts, got, tt.want)
		}
	}
}
