package fsm

import (
	"fmt"
	"testing"
)

func TestXCfgSetErrors(t *testing.T) {
	tests := []struct {
		cmd, want string
	}{
		// The key is looked up before anything is parsed.
		{"XCFGSET nokey IDMP-DURATION 5", "-" + errNoSuchKey},
		{"XCFGSET nokey FOO", "-" + errNoSuchKey},
		{"XCFGSET nokey", "-" + errNoSuchKey},
		// Redis 8.6's own cases (tests/unit/type/stream.tcl).
		{"XCFGSET s", "-" + errCfgNoParam},
		{"XCFGSET s IDMP-DURATION", "-" + errSyntax},
		{"XCFGSET s IDMP-MAXSIZE", "-" + errSyntax},
		{"XCFGSET s INVALID", "-" + errSyntax},
		{"XCFGSET s IDMP-DURATION A", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION *", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION -", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION +", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION 120-5", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION 3.14", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION 000000000", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION IDMP-DURATION IDMP-DURATION", "-" + errNotInt},
		{"XCFGSET s IDMP-MAXSIZE 3.14", "-" + errNotInt},
		{"XCFGSET s IDMP-MAXSIZE IDMP-MAXSIZE", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION INVALID IDMP-MAXSIZE", "-" + errNotInt},
		{"XCFGSET s IDMP-MAXSIZE INVALID IDMP-DURATION", "-" + errNotInt},
		{"XCFGSET s IDMP-DURATION 0", "-" + errCfgDuration},
		{"XCFGSET s IDMP-DURATION -100", "-" + errCfgDuration},
		{"XCFGSET s IDMP-DURATION 86401", "-" + errCfgDuration},
		{"XCFGSET s IDMP-MAXSIZE 0", "-" + errCfgMaxSize},
		{"XCFGSET s IDMP-MAXSIZE -50", "-" + errCfgMaxSize},
		{"XCFGSET s IDMP-MAXSIZE 10001", "-" + errCfgMaxSize},
		// Checked in order, one option at a time.
		{"XCFGSET s IDMP-DURATION 5 IDMP-DURATION 6", "-" + errCfgDurationTwice},
		{"XCFGSET s IDMP-MAXSIZE 5 idmp-maxsize 5", "-" + errCfgMaxSizeTwice},
		{"XCFGSET s IDMP-DURATION 0 IDMP-DURATION 6", "-" + errCfgDuration},
		{"XCFGSET s IDMP-DURATION 5 FOO", "-" + errSyntax},
		{"XCFGSET s IDMP-DURATION 5 IDMP-MAXSIZE", "-" + errSyntax},
		{"XCFGSET s IDMP-MAXSIZE 0 FOO", "-" + errCfgMaxSize},
		// Nothing above changed anything.
		{"XADD s IDMP p r * f v", "1-0"}, // still a duplicate
	}
	m := New()
	do(m, 1, args("XADD s IDMP p r * f v"))
	v := m.KeyVersion("s")
	for _, tt := range tests {
		if got := compact(do(m, 5, args(tt.cmd))); got != tt.want {
			t.Errorf("%s = %s; want %s", tt.cmd, got, tt.want)
		}
		if r, ok := Validate(args(tt.cmd)); !ok {
			t.Errorf("Validate(%s) refused it (%s); only Apply knows the key", tt.cmd, r.Str)
		}
		if tt.want[0] == '-' && m.KeyVersion("s") != v {
			t.Fatalf("%s changed the key's version", tt.cmd)
		}
	}
}

func TestXCfgSet(t *testing.T) {
	m := New()
	info := func() string {
		d, ms, pids, iids, added, dups := m.keys["s"].idmp.info()
		return fmt.Sprint(d, ms, pids, iids, added, dups)
	}
	do(m, 1, args("XADD s * f v"))
	if got, want := info(), "100 100 0 0 0 0"; got != want {
		t.Fatalf("defaults: %s; want %s", got, want)
	}
	steps := []struct {
		cmd      string
		want     string
		info     string
		newWrite bool // the key's version must change
	}{
		{"XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 100", "+OK", "100 100 0 0 0 0", false},
		{"XADD s IDMP p1 r1 * f v", "2-0", "100 100 1 1 1 0", true},
		{"XADD s IDMP p1 r2 * f v", "2-1", "100 100 1 2 2 0", true},
		{"XADD s IDMP p2 r1 * f v", "2-2", "100 100 2 3 3 0", true},
		{"XADD s IDMP p1 r1 * f v", "2-0", "100 100 2 3 3 1", false},
		// The current values: nothing is cleared, nothing written.
		{"XCFGSET s IDMP-DURATION 100", "+OK", "100 100 2 3 3 1", false},
		{"xcfgset s idmp-maxsize 100 idmp-duration 100", "+OK", "100 100 2 3 3 1", false},
		{"XADD s IDMP p1 r1 * f v", "2-0", "100 100 2 3 3 2", false},
		// A new value clears every producer; the lifetime counters stay.
		{"XCFGSET s IDMP-DURATION 60", "+OK", "60 100 0 0 3 2", true},
		{"XADD s IDMP p1 r1 * f v", "2-3", "60 100 1 1 4 2", true},
		{"XCFGSET s IDMP-MAXSIZE 5000 IDMP-DURATION 60", "+OK", "60 5000 0 0 4 2", true},
		{"XCFGSET s IDMP-DURATION 86400 IDMP-MAXSIZE 10000", "+OK", "86400 10000 0 0 4 2", true},
		{"XCFGSET s IDMP-DURATION 1 IDMP-MAXSIZE 1", "+OK", "1 1 0 0 4 2", true},
	}
	for _, st := range steps {
		v := m.KeyVersion("s")
		if got := compact(do(m, 2, args(st.cmd))); got != st.want {
			t.Fatalf("%s = %s; want %s", st.cmd, got, st.want)
		}
		if got := info(); got != st.info {
			t.Fatalf("after %s: info %s; want %s", st.cmd, got, st.info)
		}
		if changed := m.KeyVersion("s") != v; changed != st.newWrite {
			t.Fatalf("after %s: version changed = %v; want %v", st.cmd, changed, st.newWrite)
		}
		checkIDMP(t, m.keys["s"].idmp)
	}
	// XCFGSET on a stream that never used IDMP keeps no state for defaults.
	do(m, 3, args("XADD t * f v"))
	if got := compact(do(m, 3, args("XCFGSET t IDMP-MAXSIZE 100"))); got != "+OK" || m.keys["t"].idmp != nil {
		t.Fatalf("XCFGSET t to the defaults = %s, state %v; want +OK and none", got, m.keys["t"].idmp)
	}
	// Deleting the key forgets its IDMP state with it.
	do(m, 3, args("DEL s"))
	if got := compact(do(m, 3, args("XADD s IDMP p1 r1 * f v"))); got != "3-0" {
		t.Fatalf("XADD after DEL = %s; want 3-0", got)
	}
	if got, want := info(), "100 100 1 1 1 0"; got != want {
		t.Fatalf("info after DEL and XADD = %s; want %s", got, want)
	}
}
