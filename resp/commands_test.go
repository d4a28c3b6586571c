package resp

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCommandInfoGolden compares COMMAND INFO with the bytes redis-server
// 7.0.15 sent (testdata/command_info.golden, recorded by gencommands.py).
func TestCommandInfoGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/command_info.golden")
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	proto := ""
	n := 0
	for _, ln := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		p, rest, _ := strings.Cut(ln, " ")
		name, esc, _ := strings.Cut(rest, " ")
		esc = strings.ReplaceAll(strings.ReplaceAll(esc, `"`, `\"`), `\'`, `'`)
		want, err := strconv.Unquote(`"` + esc + `"`)
		if err != nil {
			t.Fatalf("golden line for %s: %v", name, err)
		}
		if p != proto {
			c.do("HELLO", p)
			proto = p
		}
		if got := c.do("COMMAND", "INFO", name); got != want {
			t.Errorf("RESP%s COMMAND INFO %s:\n got %q\nwant %q", p, name, got, want)
		}
		n++
	}
	if n < 50 {
		t.Errorf("golden file has %d entries; want at least 50", n)
	}
}

func TestTableRejectsDuplicates(t *testing.T) {
	for _, name := range []string{"xadd", "xgroup|create"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering %q twice did not panic", name)
				}
			}()
			tb := newTable()
			tb.add(name, kindWrite, nil)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Errorf("registering a command without metadata did not panic")
		}
	}()
	(&table{byName: map[string]*command{}}).add("nosuchcmd", kindWrite, nil)
}

func TestTableHasEveryStreamCommand(t *testing.T) {
	tb := newTable()
	for _, name := range []string{"xadd", "xrange", "xrevrange", "xlen", "xread", "xdel", "xtrim", "xsetid",
		"xgroup|create", "xgroup|setid", "xgroup|destroy", "xgroup|createconsumer", "xgroup|delconsumer",
		"xreadgroup", "xack", "xpending", "xclaim", "xautoclaim", "xinfo|stream", "xinfo|groups", "xinfo|consumers",
		"del", "unlink", "exists", "type", "keys", "scan", "dbsize", "flushall", "flushdb"} {
		if tb.get(name) == nil {
			t.Errorf("command %q is not in the table", name)
		}
	}
}

func TestRouteKey(t *testing.T) {
	tb := newTable()
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"XADD", "s1", "*", "a", "b"}, "s1"},
		{[]string{"XREAD", "COUNT", "1", "STREAMS", "s2", "s3", "0", "0"}, "s2"},
		{[]string{"XREAD", "BLOCK", "0", "streams", "s4", "$"}, "s4"},
		{[]string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s5", ">"}, "s5"},
		{[]string{"XGROUP", "CREATE", "s6", "g", "$"}, "s6"},
		{[]string{"XINFO", "STREAM", "s7"}, "s7"},
		{[]string{"DEL", "k1", "k2"}, "k1"},
		{[]string{"DBSIZE"}, ""},
		{[]string{"SCAN", "0"}, ""},
	}
	for _, tt := range tests {
		argv := make([][]byte, len(tt.argv))
		for i, a := range tt.argv {
			argv[i] = []byte(a)
		}
		cmd, msg := tb.lookup(argv)
		if cmd == nil {
			t.Fatalf("lookup(%q): %s", tt.argv, msg)
		}
		if got := string(cmd.routeKey(argv)); got != tt.want {
			t.Errorf("routeKey(%q) = %q; want %q", tt.argv, got, tt.want)
		}
	}
}
