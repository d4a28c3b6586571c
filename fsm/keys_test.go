package fsm

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func TestKeyCommands(t *testing.T) {
	runSteps(t, New(), []step{
		{0, "XADD s 1-1 a 1", "1-1"},
		{0, "XADD t 1-1 a 1", "1-1"},
		{0, "EXISTS s s nokey t", ":3"},
		{0, "TYPE s", "+stream"},
		{0, "TYPE nokey", "+none"},
		{0, "DBSIZE", ":2"},
		{0, "DEL s s nokey", ":1"},
		{0, "UNLINK t", ":1"},
		{0, "DBSIZE", ":0"},
		{0, "XADD s 1-1 a 1", "1-1"},
		{0, "FLUSHALL", "+OK"},
		{0, "DBSIZE", ":0"},
		{0, "FLUSHDB ASYNC", "+OK"},
		{0, "FLUSHALL sync", "+OK"},
		{0, "FLUSHALL foo", "-" + errSyntax},
		{0, "FLUSHALL sync async", "-" + errSyntax},
		{0, "KEYS *", "[]"},
	})
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, str string
		want     bool
	}{
		{"*", "", false}, {"**", "", false}, {"*", "abc", true}, {"a*", "abc", true}, {"a*c", "abc", true},
		{"a*d", "abc", false}, {"?", "a", true}, {"?", "", false}, {"??", "a", false},
		{"h?llo", "hello", true}, {"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false}, {"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true}, {"h[a-b]llo", "hcllo", false}, {`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false}, {`[\]]`, "]", true}, {"[abc", "a", true}, {"[abc", "b", true}, {"[abc", "d", false},
		{"a**b", "axxb", true}, {"*a*b*c*", "xaybzc", true}, {"abc", "abcd", false},
		{"abc*", "abc", true}, {`a\`, "a\\", true}, {"", "", true}, {"", "a", false},
	}
	for _, tt := range tests {
		if got := globMatch([]byte(tt.pat), []byte(tt.str)); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v; want %v", tt.pat, tt.str, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	m := New()
	for _, k := range []string{"user:1", "user:2", "order:1", "u"} {
		do(m, 0, args("XADD "+k+" 1-1 f v"))
	}
	tests := []struct{ pat, want string }{
		{"*", "order:1 u user:1 user:2"},
		{"user:*", "user:1 user:2"},
		{"*:1", "order:1 user:1"},
		{"?", "u"},
		{"nothing", ""},
	}
	for _, tt := range tests {
		r := do(m, 0, args("KEYS "+tt.pat))
		var got []string
		for _, e := range r.Elems {
			got = append(got, string(e.Bulk))
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("KEYS %s = %q; want %q", tt.pat, got, tt.want)
		}
	}
}

// scanAll runs a full SCAN; between calls it runs between(call number).
func scanAll(t *testing.T, m *Machine, opts string, between func(int)) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := "0"
	for call := 0; ; call++ {
		if call > 10000 {
			t.Fatal("SCAN does not terminate")
		}
		r := do(m, 0, args("SCAN "+cursor+" "+opts))
		cursor = string(r.Elems[0].Bulk)
		for _, e := range r.Elems[1].Elems {
			seen[string(e.Bulk)]++
		}
		if cursor == "0" {
			return seen
		}
		if between != nil {
			between(call)
		}
	}
}

func TestScan(t *testing.T) {
	m := New()
	for i := 0; i < 500; i++ {
		do(m, 0, args(fmt.Sprintf("XADD k%d 1-1 f v", i)))
	}
	seen := scanAll(t, m, "COUNT 7", nil)
	if len(seen) != 500 {
		t.Fatalf("SCAN saw %d keys; want 500", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("SCAN returned %s %d times; want once on a stable keyspace", k, n)
		}
	}
	if got := scanAll(t, m, "MATCH k1?", nil); len(got) != 10 {
		t.Fatalf("SCAN MATCH k1? saw %d keys; want 10", len(got))
	}
	if got := scanAll(t, m, "TYPE string", nil); len(got) != 0 {
		t.Fatalf("SCAN TYPE string saw %d keys; want 0", len(got))
	}
	if got := scanAll(t, m, "TYPE STREAM COUNT 1000", nil); len(got) != 500 {
		t.Fatalf("SCAN TYPE stream saw %d keys; want 500", len(got))
	}
	// Keys added and deleted during the scan: every key present for the
	// whole scan is still returned.
	seen = scanAll(t, m, "COUNT 10", func(call int) {
		do(m, 0, args(fmt.Sprintf("XADD new%d 1-1 f v", call)))
		do(m, 0, args(fmt.Sprintf("DEL k%d", 400+call%100)))
	})
	for i := 0; i < 400; i++ {
		if seen[fmt.Sprintf("k%d", i)] == 0 {
			t.Fatalf("SCAN with concurrent writes missed k%d", i)
		}
	}
	if got := compact(do(m, 0, [][]byte{[]byte("SCAN"), []byte(" 1")})); got != "-"+errInvalidCursor {
		t.Errorf("SCAN ' 1' = %s; want -%s", got, errInvalidCursor)
	}
	runSteps(t, m, []step{
		{0, "SCAN x", "-" + errInvalidCursor},
		{0, "SCAN 0 COUNT 0", "-" + errSyntax},
		{0, "SCAN 0 COUNT x", "-" + errNotInt},
		{0, "SCAN 0 MATCH", "-" + errSyntax},
		{0, "SCAN 0 FOO bar", "-" + errSyntax},
	})
}
