package fsm

import (
	"bytes"
	"fmt"
	"testing"
)

// argvOf builds an argv from separate strings (args cannot express "").
func argvOf(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

func TestXAddIDMPSyntax(t *testing.T) {
	tests := []struct {
		argv [][]byte
		want string
	}{
		// Redis 8.6's own cases (tests/unit/type/stream.tcl).
		{args("XADD s IDMP p1 * f v"), "-" + errInvalidID}, // "*" is the iid, "f" the ID
		{args("XADD s IDMP p1 iid1 1-1 f v"), "-" + errIDMPAutoOnly},
		{args("XADD s IDMP p1 iid1 IDMP p2 iid2 * f v"), "-" + errIDMPTwice},
		{args("XADD s IDMPAUTO p1 IDMP p2 iid2 * f v"), "-" + errIDMPTwice},
		{args("XADD s IDMP p1 iid1 IDMPAUTO p2 * f v"), "-" + errIDMPTwice},
		{args("XADD s IDMPAUTO p1 IDMPAUTO p2 * f v"), "-" + errIDMPTwice},
		{args("XADD s IDMPAUTO p1 1-1 f v"), "-" + errIDMPAutoOnly},
		{argvOf("XADD", "s", "IDMP", "", "iid1", "*", "f", "v"), "-" + errIDMPNoPid},
		{argvOf("XADD", "s", "IDMP", "p1", "", "*", "f", "v"), "-" + errIDMPNoIid},
		{argvOf("XADD", "s", "IDMPAUTO", "", "*", "f", "v"), "-" + errIDMPAutoNoPid},
		// The order of errors: option loop, IDMP with an ID, after the loop.
		{args("XADD s IDMP p1 iid1 x-1 f v"), "-" + errInvalidID},
		{args("XADD s IDMP p1 iid1 1-* f v"), "-" + errIDMPAutoOnly},
		{args("XADD s MAXLEN x IDMP p i IDMP p i * f v"), "-" + errNotInt},
		{args("XADD s MAXLEN 1 MINID 2 IDMP p i IDMP p i * f v"), "-" + errMaxlenMinid},
		{args("XADD s IDMP p i IDMP p i MAXLEN x * f v"), "-" + errIDMPTwice},
		{args("XADD s LIMIT 5 IDMP p i IDMP p i * f v"), "-" + errIDMPTwice},
		{args("XADD s LIMIT 5 IDMP p i 1-1 f v"), "-" + errIDMPAutoOnly},
		{args("XADD s IDMP p i MAXLEN 1 LIMIT 1 * f v"), "-" + errLimitNoApprox},
		{args("XADD s IDMP p i LIMIT 1 * f v"), "-" + errLimitNoStrat},
		{args("XADD s MAXLEN ~ IDMP p i * f v"), "-" + errNotInt}, // IDMP is MAXLEN's value
		{args("XADD s IDMP p i * f"), "-ERR wrong number of arguments for 'xadd' command"},
		{args("XADD s IDMP p i * f v g"), "-ERR wrong number of arguments for 'xadd' command"},
		{args("XADD s IDMP p i"), "-ERR wrong number of arguments for 'xadd' command"},
		{args("XADD s IDMP p * f"), "-" + errInvalidID},
		{args("XADD s IDMPAUTO p f v"), "-" + errInvalidID},
		{args("XADD s IDMPAUTO * f v"), "-" + errInvalidID}, // "*" is the pid
		{args("XADD s IDMP f v"), "-ERR wrong number of arguments for 'xadd' command"},
		{args("XADD s IDMPAUTO f v"), "-" + errInvalidID},
		{args("XADD s IDMPAUTO p * a 1 a 1"), "-" + errIDMPHash},
		{args("XADD s NOMKSTREAM IDMP p i * f v"), "nil"},
		{args("XADD s NOMKSTREAM IDMPAUTO p * a 1 a 1"), "nil"}, // the key is looked up first
	}
	m := New()
	for _, tt := range tests {
		got := compact(do(m, 1000, tt.argv))
		if got != tt.want {
			t.Errorf("%q = %s; want %s", tt.argv, got, tt.want)
		}
		r, ok := Validate(tt.argv)
		if !ok && "-"+r.Str != got {
			t.Errorf("Validate(%q) = %s; Apply gave %s", tt.argv, r.Str, got)
		}
		if ok && got[0] == '-' && tt.want != "-"+errIDMPHash {
			t.Errorf("Validate(%q) passed; Apply gave %s", tt.argv, got)
		}
	}
	if got := compact(do(m, 0, args("EXISTS s"))); got != ":0" {
		t.Fatalf("EXISTS s = %s after only errors; want :0", got)
	}
}

func TestXAddIDMPOptionsAnywhere(t *testing.T) {
	runSteps(t, New(), []step{
		{1000, "XADD s IDMP p1 r1 MAXLEN ~ 100 * f 1", "1000-0"},
		{1000, "XADD s MAXLEN ~ 100 IDMP p1 r2 * f 2", "1000-1"},
		{1000, "XADD s NOMKSTREAM IDMP p1 r3 MAXLEN = 100 LIMIT 0 * f 3", "-" + errLimitNoApprox},
		{1000, "XADD s NOMKSTREAM idmp p1 r3 maxlen 100 * f 3", "1000-2"},
		{1000, "XADD s MAXLEN 100 IDMP p1 r1 NOMKSTREAM * f 9", "1000-0"},
		{1000, "XADD s idmpauto p2 MAXLEN 2 * f 4", "1000-3"},
		{1000, "XLEN s", ":2"},
		{1000, "XADD s IDMPAUTO p2 MAXLEN 2 * f 4", "1000-3"}, // a duplicate trims nothing
		{1000, "XRANGE s - +", "[[1000-2 [f 3]] [1000-3 [f 4]]]"},
	})
}

func TestXAddIDMPDuplicates(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1000, "XADD s IDMP p1 payment-abc * amount 100 currency USD", "1000-0"},
		{1001, "XADD s IDMP p1 payment-abc * amount 200 currency EUR", "1000-0"},
		{1002, "XADD s IDMP p2 payment-abc * amount 300", "1002-0"}, // producers are separate
		{1003, "XADD s IDMP p1 payment-def * amount 400", "1003-0"},
		{1004, "XADD s IDMP p2 payment-abc * x y", "1002-0"},
		{1005, "XLEN s", ":3"},
		{1005, "XRANGE s - 1000", "[[1000-0 [amount 100 currency USD]]]"},
		{1005, "XDEL s 1000-0", ":1"},
		{1006, "XADD s IDMP p1 payment-abc * a b", "1000-0"}, // the iid outlives its entry
		{1007, "XADD s IDMPAUTO p1 * x 1 y 2", "1007-0"},
		{1008, "XADD s IDMPAUTO p1 * y 2 x 1", "1007-0"}, // pair order does not matter
		{1009, "XADD s IDMPAUTO p1 * x 1 y 3", "1009-0"},
		{1010, "XADD s IDMPAUTO p1 * z 1 y 2", "1010-0"}, // field names matter
		{1011, "XADD s IDMPAUTO p1 * ab c", "1011-0"},
		{1012, "XADD s IDMPAUTO p1 * a bc", "1012-0"}, // no ambiguity at the border
		{1013, "XADD s IDMPAUTO p3 * x 1 y 2", "1013-0"},
		{1014, "XADD s IDMP p1 x * x 1", "1014-0"}, // an IDMP iid is not an IDMPAUTO one
	})
	d, ms, pids, iids, added, dups := m.keys["s"].idmp.info()
	got := fmt.Sprint(d, ms, pids, iids, added, dups)
	if want := "100 100 3 10 10 4"; got != want {
		t.Fatalf("info = %s; want %s", got, want)
	}
	if e := m.keys["s"].entriesAdded; e != 10 {
		t.Fatalf("entries added = %d; want 10", e)
	}
}

// TestXAddIDMPRetry is the reason IDMP matters here: a client whose XADD may
// or may not have committed before a leader change retries it; the retry is
// a second log entry and must not add a second stream entry.
func TestXAddIDMPRetry(t *testing.T) {
	for _, auto := range []bool{false, true} {
		m := New()
		cmd := args("XADD orders IDMP client-7 req-42 * item book qty 1")
		if auto {
			cmd = args("XADD orders IDMPAUTO client-7 * item book qty 1")
		}
		first, sig1 := m.Apply(&Entry{Stamp: 5000, Reqs: []Request{{Cmds: [][][]byte{cmd}}}})
		v1 := m.KeyVersion("orders")
		retry, sig2 := m.Apply(&Entry{Stamp: 7000, Reqs: []Request{{Cmds: [][][]byte{cmd}}}})
		if compact(first[0]) != "5000-0" || compact(retry[0]) != "5000-0" {
			t.Fatalf("auto=%v: replies %s, %s; want 5000-0 twice", auto, compact(first[0]), compact(retry[0]))
		}
		if len(sig1) != 1 || len(sig2) != 0 {
			t.Fatalf("auto=%v: signalled %q then %q; want [orders] then none", auto, sig1, sig2)
		}
		if v := m.KeyVersion("orders"); v != v1 {
			t.Fatalf("auto=%v: version %d after the retry; want %d", auto, v, v1)
		}
		if got := compact(do(m, 0, args("XLEN orders"))); got != ":1" {
			t.Fatalf("auto=%v: XLEN = %s; want :1", auto, got)
		}
	}
	// In one MULTI, as Redis's pipelined test.
	m := New()
	multi := Request{Multi: true, Cmds: cmds("XADD s IDMP p1 req-1 * f 1", "XADD s IDMP p1 req-2 * f 2",
		"XADD s IDMP p1 req-1 * f 3", "XADD s IDMP p1 req-3 * f 4")}
	replies, _ := m.Apply(&Entry{Stamp: 10, Reqs: []Request{multi}})
	if got, want := compact(replies[0]), "[10-0 10-1 10-0 10-2]"; got != want {
		t.Fatalf("EXEC = %s; want %s", got, want)
	}
}

func TestXAddIDMPExpiry(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{10000, "XADD s IDMP p a * f 1", "10000-0"},
		{10000, "XCFGSET s IDMP-DURATION 1", "+OK"},
		{10000, "XADD s IDMP p a * f 2", "10000-1"}, // XCFGSET forgot a
		{10500, "XADD s IDMP q b * f 3", "10500-0"},
		{10999, "XADD s IDMP p a * f 4", "10000-1"},
		{11000, "XADD s IDMP p a * f 5", "11000-0"}, // 10000 <= 11000 - 1000: expired
		{11499, "XADD s IDMP q b * f 6", "10500-0"},
		{11500, "XADD s * f 7", "11500-0"}, // any XADD expires: q's b goes
	})
	_, _, pids, iids, added, dups := m.keys["s"].idmp.info()
	if got, want := fmt.Sprint(pids, iids, added, dups), "2 1 4 2"; got != want {
		t.Fatalf("pids iids added dups = %s; want %s", got, want)
	}
	runSteps(t, m, []step{
		{11999, "XADD s IDMP p a * f 8", "11000-0"},
		{12000, "XADD s IDMP p a * f 9", "12000-0"},
		// A stamp of 0 (or a clock far behind the IDs) expires nothing.
		{0, "XADD s IDMP p a * f 10", "12000-0"},
	})
	checkIDMP(t, m.keys["s"].idmp)
}

func TestXAddIDMPMaxSize(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XADD s IDMP p1 init * f init", "1-0"},
		{1, "XCFGSET s IDMP-MAXSIZE 3 IDMP-DURATION 60", "+OK"},
		{2, "XADD s IDMP p1 req-1 * f v1", "2-0"},
		{3, "XADD s IDMP p1 req-2 * f v2", "3-0"},
		{4, "XADD s IDMP p1 req-3 * f v3", "4-0"},
		{5, "XADD s IDMP p2 req-1 * f p2", "5-0"}, // p2 has its own 3
		{6, "XADD s IDMP p1 req-1 * f dup", "2-0"},
		{7, "XADD s IDMP p1 req-4 * f v4", "7-0"},  // evicts req-1
		{8, "XADD s IDMP p1 req-1 * f new", "8-0"}, // evicts req-2
		{9, "XADD s IDMP p1 req-2 * f new", "9-0"}, // evicts req-3
		{10, "XADD s IDMP p1 req-4 * f dup", "7-0"},
		{11, "XADD s IDMP p2 req-1 * f dup", "5-0"},
	})
	_, maxsize, pids, iids, added, dups := m.keys["s"].idmp.info()
	if got, want := fmt.Sprint(maxsize, pids, iids, added, dups), "3 2 4 8 3"; got != want {
		t.Fatalf("maxsize pids iids added dups = %s; want %s", got, want)
	}
	// Redis's wrap-around test: of 100 iids, the last 8 stay.
	m = New()
	do(m, 1, args("XADD w IDMP p1 init * f init"))
	do(m, 1, args("XCFGSET w IDMP-MAXSIZE 8"))
	ids := make([]string, 101)
	for i := 1; i <= 100; i++ {
		ids[i] = compact(do(m, 1, args(fmt.Sprintf("XADD w IDMP p1 req-%d * f v", i))))
		if i%7 == 0 {
			checkIDMP(t, m.keys["w"].idmp)
		}
	}
	for i := 100; i >= 1; i-- {
		got := compact(do(m, 1, args(fmt.Sprintf("XADD w IDMP p1 req-%d * f again", i))))
		if kept := i > 92; (got == ids[i]) != kept {
			t.Fatalf("req-%d gave %s (first %s); kept=%v", i, got, ids[i], kept)
		}
	}
	checkIDMP(t, m.keys["w"].idmp)
}

// TestIDMPEvictionCompacts shows the stream-wide queue does not keep evicted
// entries: with IDMP-MAXSIZE 1 and a long duration, memory stays bounded.
func TestIDMPEvictionCompacts(t *testing.T) {
	m := New()
	do(m, 1, args("XADD s * f v"))
	do(m, 1, args("XCFGSET s IDMP-MAXSIZE 1 IDMP-DURATION 86400"))
	for i := 0; i < 5000; i++ {
		do(m, 2, args(fmt.Sprintf("XADD s IDMP p%d r%d * f v", i%3, i)))
	}
	st := m.keys["s"].idmp
	checkIDMP(t, st)
	if n := len(st.all.items); n > 200 {
		t.Fatalf("stream-wide queue holds %d slots for 3 live iids; want <= 200", n)
	}
}

func TestIDMPAutoIID(t *testing.T) {
	tests := []struct {
		a, b []string
		same bool
	}{
		{[]string{"a", "1", "b", "2"}, []string{"b", "2", "a", "1"}, true},
		{[]string{"a", "1"}, []string{"a", "2"}, false},
		{[]string{"a", "1"}, []string{"b", "1"}, false},
		{[]string{"ab", ""}, []string{"a", "b"}, false},
		{[]string{"", ""}, []string{"", ""}, true},
		{[]string{"a", "\x00\xff"}, []string{"a", "\x00\xfe"}, false},
	}
	for _, tt := range tests {
		a, okA := autoIID(argvOf(tt.a...))
		b, okB := autoIID(argvOf(tt.b...))
		if !okA || !okB || len(a) != 16 {
			t.Fatalf("autoIID(%q) ok=%v len=%d, (%q) ok=%v", tt.a, okA, len(a), tt.b, okB)
		}
		if (a == b) != tt.same {
			t.Errorf("autoIID(%q) == autoIID(%q) is %v; want %v", tt.a, tt.b, a == b, tt.same)
		}
	}
	if _, ok := autoIID(argvOf("a", "1", "b", "2", "a", "1", "b", "2")); ok {
		t.Fatal("pairs that cancel out gave a hash; want none")
	}
}

// buildIDMP applies a mix of IDMP writes, evictions and expiries to s.
func buildIDMP(m *Machine) {
	do(m, 1000, args("XADD s IDMP p1 a * f v"))
	do(m, 1000, args("XCFGSET s IDMP-MAXSIZE 4 IDMP-DURATION 2"))
	for i := 0; i < 30; i++ {
		do(m, int64(1000+100*i), args(fmt.Sprintf("XADD s IDMP p%d r%d * f %d", i%4, i%7, i)))
		do(m, int64(1000+100*i), args(fmt.Sprintf("XADD s IDMPAUTO q%d * g %d", i%2, i%5)))
	}
	do(m, 9000, argvOf("XADD", "s", "IDMP", "bin\x00pid", "\x00\xff", "*", "f", "v"))
	do(m, 9000, args("XADD s IDMP idle x * f v"))
	do(m, 20000, args("XADD s * f v")) // expires everything; producers stay
	do(m, 20000, args("XADD s IDMP p1 last * f v"))
}

func TestIDMPSnapshotRoundTrip(t *testing.T) {
	m := New()
	buildIDMP(m)
	st := m.keys["s"].idmp
	checkIDMP(t, st)
	enc := st.appendSnapshot([]byte("prefix"))
	if !bytes.HasPrefix(enc, []byte("prefix")) {
		t.Fatal("appendSnapshot dropped dst")
	}
	got, err := decodeIDMP(enc[len("prefix"):])
	if err != nil {
		t.Fatal(err)
	}
	checkIDMP(t, got)
	if again := got.appendSnapshot(nil); !bytes.Equal(again, enc[len("prefix"):]) {
		t.Fatalf("re-encoded %x; want %x", again, enc[len("prefix"):])
	}
	a := fmt.Sprint(st.info())
	b := fmt.Sprint(got.info())
	if a != b {
		t.Fatalf("info after decode = %s; want %s", b, a)
	}
	// The decoded state behaves the same: same duplicates, same expiry.
	m2 := New()
	buildIDMP(m2)
	m2.keys["s"].idmp = got
	for _, c := range []string{"XADD s IDMP p1 last * f v", "XADD s IDMP p1 r1 * f v",
		"XADD s IDMP idle x * f v", "XADD s IDMPAUTO q1 * g 4"} {
		for _, stamp := range []int64{20001, 22500} {
			if x, y := compact(do(m, stamp, args(c))), compact(do(m2, stamp, args(c))); x != y {
				t.Fatalf("%s at %d: original %s, decoded %s", c, stamp, x, y)
			}
		}
	}
	// The nil state encodes as nothing and decodes back to nil.
	var none *idmpState
	if b := none.appendSnapshot(nil); len(b) != 0 {
		t.Fatalf("nil state encoded as %x; want nothing", b)
	}
	if s, err := decodeIDMP(nil); s != nil || err != nil {
		t.Fatalf("decodeIDMP(nil) = %v, %v; want nil, nil", s, err)
	}
}

func TestIDMPSnapshotDeterministic(t *testing.T) {
	a, b := New(), New()
	buildIDMP(a)
	buildIDMP(b)
	for i := 0; i < 5; i++ { // map order differs run to run; the bytes must not
		if x, y := a.keys["s"].idmp.appendSnapshot(nil), b.keys["s"].idmp.appendSnapshot(nil); !bytes.Equal(x, y) {
			t.Fatalf("two identical histories encode differently:\n%x\n%x", x, y)
		}
	}
}

func TestIDMPDecodeRejects(t *testing.T) {
	m := New()
	buildIDMP(m)
	good := m.keys["s"].idmp.appendSnapshot(nil)
	for n := 1; n < len(good); n++ {
		if _, err := decodeIDMP(good[:n]); err == nil {
			t.Fatalf("a %d-byte prefix of %d decoded", n, len(good))
		}
	}
	enc := func(f func(*idmpState)) []byte {
		s := newIDMPState()
		s.insert(s.producer([]byte("p")), "a", ID{1, 0})
		s.insert(s.producer([]byte("q")), "b", ID{2, 0})
		f(s)
		return s.appendSnapshot(nil)
	}
	bad := map[string][]byte{
		"version":  {9},
		"duration": enc(func(s *idmpState) { s.duration = 0 }),
		"maxsize":  enc(func(s *idmpState) { s.maxSize = 10001 }),
		"trailing": append(enc(func(*idmpState) {}), 0),
		"over max": enc(func(s *idmpState) { s.insert(s.producer([]byte("p")), "c", ID{3, 0}); s.maxSize = 1 }),
		"empty iid": enc(func(s *idmpState) {
			s.producers["p"].queue.peek().iid = ""
		}),
		"repeated iid": enc(func(s *idmpState) {
			s.producers["q"].queue.peek().iid = "x"
			s.insert(s.producer([]byte("q")), "y", ID{3, 0})
			s.producers["q"].queue.live()[1].iid = "x"
		}),
	}
	for name, b := range bad {
		if s, err := decodeIDMP(b); err == nil {
			t.Errorf("%s: decoded %+v; want an error", name, s)
		}
	}
	if _, err := decodeIDMP(enc(func(*idmpState) {})); err != nil {
		t.Fatalf("the unmodified encoding: %v", err)
	}
}

// checkIDMP verifies an idmpState's bookkeeping.
func checkIDMP(t testing.TB, s *idmpState) {
	t.Helper()
	if s == nil {
		return
	}
	var tracked int64
	for pid, p := range s.producers {
		live := p.queue.live()
		if len(live) != len(p.iids) || int64(len(live)) > s.maxSize {
			t.Fatalf("producer %q: queue %d, map %d, maxsize %d", pid, len(live), len(p.iids), s.maxSize)
		}
		for _, e := range live {
			if p.iids[e.iid] != e || e.evicted || e.prod != p {
				t.Fatalf("producer %q: entry %q out of its map", pid, e.iid)
			}
		}
		tracked += int64(len(live))
	}
	var live, evicted int64
	for _, e := range s.all.live() {
		switch {
		case e.evicted:
			evicted++
		case e.prod.iids[e.iid] != e:
			t.Fatalf("queued entry %q is not in its producer's map", e.iid)
		default:
			live++
		}
	}
	if tracked != s.tracked || live != s.tracked || evicted != s.evicted {
		t.Fatalf("tracked %d, producers hold %d, queue %d live %d evicted (want %d)",
			s.tracked, tracked, live, evicted, s.evicted)
	}
}

// TestIDMPMachineSnapshot checks that the IDMP state survives Snapshot,
// WriteTo and Restore, and that writes after Snapshot() do not leak into it.
// It needs the snapshot.go lines given in DESIGN.md ("Idempotent production").
func TestIDMPMachineSnapshot(t *testing.T) {
	m := New()
	buildIDMP(m)
	do(m, 20000, args("XADD plain * f v"))
	want := m.keys["s"].idmp.appendSnapshot(nil)
	snap := m.Snapshot()
	do(m, 20001, args("XADD s IDMP late r * f v")) // after Snapshot(): not in it
	do(m, 20001, args("XCFGSET s IDMP-MAXSIZE 7"))
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	got := r.keys["s"].idmp.appendSnapshot(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("restored IDMP state %x; want %x (is it in snapshot.go yet?)", got, want)
	}
	if st := r.keys["plain"].idmp; st != nil {
		t.Fatalf("a stream without IDMP restored with state %+v", st)
	}
	if got := compact(do(r, 20002, args("XADD s IDMP p1 last * f v"))); got != "20000-1" {
		t.Fatalf("a retry after restore = %s; want the original 20000-1", got)
	}
}

// BenchmarkXADDIDMP measures XADD with IDMP (new iids, 100 producers, the
// default window: 100 iids each, expiring 100 s after) and with IDMPAUTO,
// against BenchmarkXADD's plain XADD of the same fields.
func BenchmarkXADDIDMP(b *testing.B) {
	for _, auto := range []bool{false, true} {
		b.Run(fmt.Sprintf("auto=%v", auto), func(b *testing.B) {
			m := New()
			argv := [][]byte{[]byte("XADD"), []byte("s"), []byte("IDMP"), nil, nil, []byte("*")}
			if auto {
				argv = [][]byte{[]byte("XADD"), []byte("s"), []byte("IDMPAUTO"), nil, []byte("*")}
			}
			argv = append(argv, benchFields...)
			argv[len(argv)-1] = nil // IDMPAUTO varies the last value: not benchFields
			e := &Entry{Reqs: []Request{{Cmds: [][][]byte{argv}}}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				e.Stamp = int64(1 + i/10)
				argv[3] = fmt.Appendf(argv[3][:0], "producer-%d", i%100)
				if auto {
					argv[len(argv)-1] = fmt.Appendf(argv[len(argv)-1][:0], "v%d", i)
				} else {
					argv[4] = fmt.Appendf(argv[4][:0], "req-%d", i)
				}
				m.Apply(e)
			}
		})
	}
}
