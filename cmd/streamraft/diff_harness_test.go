package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestReadValue(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"simple", "+OK\r\n"},
		{"error", "-ERR x y\r\n"},
		{"int", ":-12\r\n"},
		{"bulk", "$5\r\na\r\nbc\r\n"},
		{"empty bulk", "$0\r\n\r\n"},
		{"null bulk", "$-1\r\n"},
		{"null array", "*-1\r\n"},
		{"nested array", "*2\r\n*1\r\n$1\r\na\r\n:1\r\n"},
		{"resp3 null", "_\r\n"},
		{"double", ",1.5\r\n"},
		{"bool", "#t\r\n"},
		{"big number", "(123456789012345678901234567890\r\n"},
		{"verbatim", "=8\r\ntxt:abcd\r\n"},
		{"map", "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*0\r\n"},
		{"set", "~2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"push", ">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n"},
		{"attribute then value", "|1\r\n$3\r\nttl\r\n:5\r\n$1\r\nv\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A second reply follows: exactly one must be consumed.
			r := bufio.NewReader(strings.NewReader(tt.raw + "+NEXT\r\n"))
			var out bytes.Buffer
			if err := readValue(r, &out); err != nil {
				t.Fatalf("readValue(%q) error: %v", tt.raw, err)
			}
			if out.String() != tt.raw {
				t.Errorf("readValue(%q) = %q; want %q", tt.raw, out.String(), tt.raw)
			}
			v, err := parseValue([]byte(tt.raw))
			if err != nil {
				t.Fatalf("parseValue(%q) error: %v", tt.raw, err)
			}
			if tt.name != "attribute then value" && string(v.bytes()) != tt.raw {
				t.Errorf("parseValue(%q).bytes() = %q; want %q", tt.raw, v.bytes(), tt.raw)
			}
		})
	}
}

func TestReadValueErrors(t *testing.T) {
	for _, raw := range []string{"", "\r\n", "?x\r\n", "$3\r\nab", "$x\r\n", "*2\r\n:1\r\n", "+OK\n"} {
		var out bytes.Buffer
		if err := readValue(bufio.NewReader(strings.NewReader(raw)), &out); err == nil {
			t.Errorf("readValue(%q) error = nil; want an error", raw)
		}
	}
}

func TestValueSortedAndShape(t *testing.T) {
	tests := []struct {
		raw, sorted, shape string
	}{
		{"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "*3[$ $ $]"},
		{"*0\r\n", "*0\r\n", "*0[]"},
		{"%1\r\n$4\r\nsave\r\n$0\r\n\r\n", "%1\r\n$0\r\n\r\n$4\r\nsave\r\n", "%2[$ $]"},
		{"-ERR no such thing\r\n", "-ERR no such thing\r\n", "-ERR"},
		{"*-1\r\n", "*-1\r\n", "*null"},
	}
	for _, tt := range tests {
		v, err := parseValue([]byte(tt.raw))
		if err != nil {
			t.Fatalf("parseValue(%q): %v", tt.raw, err)
		}
		if got := string(v.sorted().bytes()); got != tt.sorted {
			t.Errorf("sorted(%q) = %q; want %q", tt.raw, got, tt.sorted)
		}
		if got := v.shape(); got != tt.shape {
			t.Errorf("shape(%q) = %q; want %q", tt.raw, got, tt.shape)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"XADD s 1-1 a b", []string{"XADD", "s", "1-1", "a", "b"}},
		{"  PING\t x  ", []string{"PING", "x"}},
		{`ECHO "a b" 'c d'`, []string{"ECHO", "a b", "c d"}},
		{`ECHO "" ''`, []string{"ECHO", "", ""}},
		{`ECHO "\r\n\t\\\"\x41\xff"`, []string{"ECHO", "\r\n\t\\\"A\xff"}},
		{`ECHO 'it\'s' '\n'`, []string{"ECHO", "it's", `\n`}},
	}
	for _, tt := range tests {
		got, err := splitArgs(tt.line)
		if err != nil {
			t.Errorf("splitArgs(%q) error: %v", tt.line, err)
			continue
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("splitArgs(%q) = %q; want %q", tt.line, got, tt.want)
		}
	}
	for _, bad := range []string{`ECHO "abc`, `ECHO 'abc`, `ECHO "\x4"`} {
		if _, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%q) error = nil; want an error", bad)
		}
	}
}

func TestParseStep(t *testing.T) {
	tests := []struct {
		line    string
		want    scriptStep
		wantErr bool
	}{
		{line: "XLEN s", want: scriptStep{cmd: []string{"XLEN", "s"}}},
		{line: "@conn 2", want: scriptStep{dir: "conn", arg: "2", cmd: []string{}}},
		{line: "@recv", want: scriptStep{dir: "recv", cmd: []string{}}},
		{line: "@scan MATCH a*", want: scriptStep{dir: "scan", cmd: []string{"MATCH", "a*"}}},
		{line: `@expect "+OK\r\n" SELECT 1`, want: scriptStep{dir: "expect", arg: "+OK\r\n", cmd: []string{"SELECT", "1"}}},
		{line: "@elapsed 100ms XREAD BLOCK 100 STREAMS e 0", want: scriptStep{dir: "elapsed", arg: "100ms", cmd: []string{"XREAD", "BLOCK", "100", "STREAMS", "e", "0"}}},
		{line: "@nosuch", wantErr: true},
		{line: "@conn", wantErr: true},
		{line: "@send", wantErr: true},
		{line: "@recv XLEN s", wantErr: true},
		{line: "@expect +OK", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStep(tt.line)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseStep(%q) error = nil; want an error", tt.line)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseStep(%q) error: %v", tt.line, err)
			continue
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("parseStep(%q) = %#v; want %#v", tt.line, got, tt.want)
		}
	}
}

// recorder collects the runner's Errorf calls.
type recorder struct {
	t      *testing.T
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.t.Fatalf(format, args...) }
func (r *recorder) Logf(format string, args ...any)   { r.t.Logf(format, args...) }

// TestDiffHarnessReportsMismatch checks the harness can fail: two redis
// servers that differ in one key must give exactly the expected reports.
func TestDiffHarnessReportsMismatch(t *testing.T) {
	a, b := startRedis(t), startRedis(t)
	b.name = "redis2"
	rec := &recorder{t: t}
	r := &diffRunner{t: rec, script: "self.txt", servers: [2]*process{a, b}, proto: 2,
		conns: map[string]*connPair{}, cur: "1"}
	defer r.closeAll()
	r.flushAll()
	c, err := dialRaw(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if raw, err := c.do([]string{"XADD", "only-on-b", "1-1", "f", "v"}, replyTimeout); err != nil || string(raw) != "$3\r\n1-1\r\n" {
		t.Fatalf("XADD on b = %q, %v; want $3 1-1", raw, err)
	}
	script := []string{
		"PING",                        // same
		"DBSIZE",                      // differs
		"@sort KEYS *",                // differs
		"@scan",                       // differs
		"@shape XRANGE only-on-b - +", // *0 vs *1[...]
		"XLEN nothing",                // same
	}
	for i, line := range script {
		st, err := parseStep(line)
		if err != nil {
			t.Fatalf("parseStep(%q): %v", line, err)
		}
		st.line = i + 1
		r.run(st)
	}
	wantLines := []string{"self.txt:2:", "self.txt:3:", "self.txt:4:", "self.txt:5:"}
	if len(rec.errors) != len(wantLines) {
		t.Fatalf("got %d reports %q; want %d", len(rec.errors), rec.errors, len(wantLines))
	}
	for i, want := range wantLines {
		if !strings.HasPrefix(rec.errors[i], want) {
			t.Errorf("report %d = %q; want prefix %q", i, rec.errors[i], want)
		}
	}
	if !strings.Contains(rec.errors[0], `:0\r\n`) || !strings.Contains(rec.errors[0], `:1\r\n`) {
		t.Errorf("DBSIZE report %q does not show both replies escaped", rec.errors[0])
	}
}
