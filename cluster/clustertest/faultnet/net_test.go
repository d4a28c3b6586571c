package faultnet

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// cutLinks lists the cut links, sorted, as "a->b".
func cutLinks(n *Net) []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []string
	for k, l := range n.links {
		if r := l.rule.Load(); r != nil && r.cut {
			out = append(out, k.String())
		}
	}
	slices.Sort(out)
	return out
}

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		rules func(n *Net)
		want  []string
	}{
		{"none", func(*Net) {}, nil},
		{"cut", func(n *Net) { n.Cut("a", "b") }, []string{"a->b"}},
		{"cut both", func(n *Net) { n.CutBoth("a", "b") }, []string{"a->b", "b->a"}},
		{"cut self", func(n *Net) { n.Cut("a", "a") }, nil},
		{"isolate", func(n *Net) { n.Isolate("c") }, []string{"a->c", "b->c", "c->a", "c->b", "c->d", "d->c"}},
		{"partition", func(n *Net) { n.Partition([]string{"a", "b"}, []string{"c", "d"}) },
			[]string{"a->c", "a->d", "b->c", "b->d", "c->a", "c->b", "d->a", "d->b"}},
		{"partition leaves the ungrouped alone with no one", func(n *Net) { n.Partition([]string{"a", "b", "c"}) },
			[]string{"a->d", "b->d", "c->d", "d->a", "d->b", "d->c"}},
		{"partition adds to cuts inside a group", func(n *Net) {
			n.Cut("a", "b")
			n.Partition([]string{"a", "b"}, []string{"c", "d"})
		}, []string{"a->b", "a->c", "a->d", "b->c", "b->d", "c->a", "c->b", "d->a", "d->b"}},
		{"cut an unregistered name", func(n *Net) { n.Cut("a", "later") }, []string{"a->later"}},
		{"delay and drop are not cuts", func(n *Net) { n.Delay("a", "b", time.Second); n.Drop("a", "b", 0.5) }, nil},
		{"heal", func(n *Net) { n.Isolate("a"); n.Cut("b", "c"); n.Heal() }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1)
			for i, node := range []string{"a", "b", "c", "d"} {
				n.Register(node, "127.0.0.1:"+string(rune('1'+i)))
			}
			tt.rules(n)
			if got := cutLinks(n); !slices.Equal(got, tt.want) {
				t.Errorf("cut links = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestPartitionPanicsOnANodeInTwoGroups(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"a"`) {
			t.Errorf("Partition recovered %v; want a panic naming node a", r)
		}
	}()
	New(1).Partition([]string{"a", "b"}, []string{"a"})
}

// TestZeroRulesLeaveNoRule: removing a link's last fault leaves no rule at
// all, so its traffic is back on the fast path.
func TestZeroRulesLeaveNoRule(t *testing.T) {
	n := New(1)
	n.Delay("a", "b", time.Second)
	n.Drop("a", "b", 0.5)
	n.Delay("a", "b", 0)
	if n.ruled.Load() != 1 {
		t.Fatalf("ruled links = %d with a drop left; want 1", n.ruled.Load())
	}
	n.Drop("a", "b", 0)
	if r := n.link("a", "b").rule.Load(); r != nil || n.ruled.Load() != 0 {
		t.Errorf("rule = %+v, ruled links = %d; want nil, 0", r, n.ruled.Load())
	}
}

func TestRegister(t *testing.T) {
	n := New(1)
	n.Register("a", "127.0.0.1:1000", "127.0.0.1:1001")
	n.Register("b", "[::ffff:127.0.0.1]:2000", "localhost:2001")
	n.Register("a", "127.0.0.1:1002", "127.0.0.1:2000") // a restarted; takes a port b had
	tests := []struct {
		addr     string
		wantNode string
		wantOK   bool
	}{
		{"127.0.0.1:1000", "", false}, // a's old port
		{"127.0.0.1:1002", "a", true},
		{"127.0.0.1:2000", "a", true},
		{"localhost:2001", "b", true},
		{"127.0.0.1:9", "", false},
	}
	for _, tt := range tests {
		if node, ok := n.nodeOf(tt.addr); node != tt.wantNode || ok != tt.wantOK {
			t.Errorf("nodeOf(%q) = %q, %v; want %q, %v", tt.addr, node, ok, tt.wantNode, tt.wantOK)
		}
	}
	if got, want := n.addrs["b"], []string{"localhost:2001"}; !slices.Equal(got, want) {
		t.Errorf("b's addresses = %q; want %q", got, want)
	}
}

// TestLossReplays: a link's losses are the same sequence for the same
// seed, and differ between seeds and between links.
func TestLossReplays(t *testing.T) {
	const draws = 64
	seq := func(seed int64, from, to string) string {
		l := New(seed).link(from, to)
		var b strings.Builder
		for range draws {
			if l.lose(0.5) {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	first := seq(42, "a", "b")
	if again := seq(42, "a", "b"); again != first {
		t.Errorf("seed 42 a->b losses = %s, then %s; want the same", first, again)
	}
	if other := seq(43, "a", "b"); other == first {
		t.Errorf("seeds 42 and 43 both give %s; want different losses", first)
	}
	if back := seq(42, "b", "a"); back == first {
		t.Errorf("a->b and b->a both give %s; want different losses", first)
	}
	if lost := strings.Count(first, "x"); lost < draws/4 || lost > 3*draws/4 {
		t.Errorf("p=0.5 lost %d of %d; want about half", lost, draws)
	}
}
