package check

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// checkTimeout bounds every linearizability check in these tests. The
// histories are small; a check that needs longer is a bug in the model.
const checkTimeout = 10 * time.Second

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{name: "empty history", want: porcupine.Ok},
		{
			name: "reads of an empty stream",
			ops: []porcupine.Operation{
				op(0, 0, 1, XRange("k"), entries()),
				op(0, 2, 3, XLen("k"), length(0)),
				op(0, 4, 5, XRead("k", id0, 10), entries()),
			},
			want: porcupine.Ok,
		},
		{
			name: "sequential writes and reads",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("1-1")),
				op(1, 4, 5, XAdd("k", "c"), added("7-0")),
				op(1, 6, 7, XRange("k"), entries("1-0 a", "1-1 b", "7-0 c")),
				op(0, 8, 9, XLen("k"), length(3)),
				op(0, 10, 11, XRead("k", id0, 0), entries("1-0 a", "1-1 b", "7-0 c")),
				op(0, 12, 13, XRead("k", MustParseID("1-0"), 1), entries("1-1 b")),
				op(0, 14, 15, XRead("k", MustParseID("1-5"), 5), entries("7-0 c")),
				op(0, 16, 17, XRead("k", MustParseID("7-0"), 5), entries()),
			},
			want: porcupine.Ok,
		},
		{
			name: "ms compare numerically",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("9-0")),
				op(0, 2, 3, XAdd("k", "b"), added("10-0")),
				op(0, 4, 5, XRange("k"), entries("9-0 a", "10-0 b")),
			},
			want: porcupine.Ok,
		},
		{
			// Two overlapping XADDs: the IDs say b went first, although
			// a was called first. Only that order fits.
			name: "concurrent writes linearizable in one order",
			ops: []porcupine.Operation{
				op(0, 0, 10, XAdd("k", "a"), added("2-0")),
				op(1, 1, 9, XAdd("k", "b"), added("1-0")),
				op(2, 5, 6, XRange("k"), entries("1-0 b")),
				op(2, 20, 21, XRange("k"), entries("1-0 b", "2-0 a")),
			},
			want: porcupine.Ok,
		},
		{
			name: "read concurrent with a write may see it",
			ops: []porcupine.Operation{
				op(0, 0, 10, XAdd("k", "a"), added("1-0")),
				op(1, 1, 2, XLen("k"), length(1)),
				op(2, 3, 4, XRange("k"), entries("1-0 a")),
			},
			want: porcupine.Ok,
		},
		{
			name: "read concurrent with a write may miss it",
			ops: []porcupine.Operation{
				op(0, 0, 10, XAdd("k", "a"), added("1-0")),
				op(1, 1, 2, XRange("k"), entries()),
				op(2, 11, 12, XRange("k"), entries("1-0 a")),
			},
			want: porcupine.Ok,
		},
		{
			name: "unknown write that took effect",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 10, 11, XRange("k"), entries("1-0 a", "3-0 u")),
				op(0, 12, 13, XAdd("k", "b"), added("4-0")),
				op(0, 14, 15, XRange("k"), entries("1-0 a", "3-0 u", "4-0 b")),
			},
			want: porcupine.Ok,
		},
		{
			name: "unknown write that did not take effect",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 10, 11, XRange("k"), entries("1-0 a")),
				op(0, 12, 13, XLen("k"), length(1)),
				op(0, 14, 15, XAdd("k", "b"), added("4-0")),
				op(0, 16, 17, XRange("k"), entries("1-0 a", "4-0 b")),
			},
			want: porcupine.Ok,
		},
		{
			// XLEN shows u applied before b; b's ID is accepted without
			// knowing u's, and the read later finds room for it.
			name: "answered write after an unknown one",
			ops: []porcupine.Operation{
				unknownAdd(1, 0, "k", "u"),
				op(0, 10, 11, XLen("k"), length(1)),
				op(0, 12, 13, XAdd("k", "b"), added("4-0")),
				op(0, 14, 15, XRange("k"), entries("2-5 u", "4-0 b")),
			},
			want: porcupine.Ok,
		},
		{
			// After 2-0 the selection starts at u or at c depending on
			// u's ID; the read says u, with 3-0.
			name: "xread decides where an unknown id falls",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 10, 11, XLen("k"), length(2)),
				op(0, 12, 13, XAdd("k", "c"), added("5-0")),
				op(0, 14, 15, XRead("k", MustParseID("2-0"), 1), entries("3-0 u")),
				op(0, 16, 17, XRange("k"), entries("1-0 a", "3-0 u", "5-0 c")),
			},
			want: porcupine.Ok,
		},
		{
			name: "xread may place an unknown id before after",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 10, 11, XLen("k"), length(2)),
				op(0, 12, 13, XAdd("k", "c"), added("5-0")),
				op(0, 14, 15, XRead("k", MustParseID("2-0"), 1), entries("5-0 c")),
				op(0, 16, 17, XRange("k"), entries("1-0 a", "1-7 u", "5-0 c")),
			},
			want: porcupine.Ok,
		},
		{
			// Without the XLEN, u may be applied after the empty XREAD,
			// so its later ID need not respect the XREAD's bound.
			name: "empty xread before an unknown write shows",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 5, 6, XRead("k", MustParseID("5-0"), 0), entries()),
				op(0, 7, 8, XRange("k"), entries("1-0 a", "7-0 u")),
			},
			want: porcupine.Ok,
		},
		{
			// Linearizing u then the XREAD bounds u's ID; the XREAD then
			// u does not. Both reach the same set of operations, and only
			// the second passes the XRANGE: the checker's cache must not
			// take one state for the other.
			name: "states differing only in a bound stay apart",
			ops: []porcupine.Operation{
				unknownAdd(0, 0, "k", "u"),
				op(1, 1, 2, XRead("k", MustParseID("5-0"), 0), entries()),
				op(1, 3, 4, XLen("k"), length(1)),
				op(1, 5, 6, XRange("k"), entries("7-0 u")),
			},
			want: porcupine.Ok,
		},
		{
			name: "keys are independent",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("a", "x"), added("5-0")),
				op(1, 0, 1, XAdd("b", "y"), added("1-0")),
				op(0, 2, 3, XRange("a"), entries("5-0 x")),
				op(1, 2, 3, XRange("b"), entries("1-0 y")),
			},
			want: porcupine.Ok,
		},
		{
			name: "lost acknowledged write",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRange("k"), entries("2-0 b")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "stale read after a completed write",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRange("k"), entries("1-0 a")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "stale xread after a completed write",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(1, 2, 3, XRead("k", id0, 0), entries()),
			},
			want: porcupine.Illegal,
		},
		{
			name: "write applied twice",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(1, 2, 3, XRange("k"), entries("1-0 a", "2-0 a")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "unknown write applied twice",
			ops: []porcupine.Operation{
				unknownAdd(0, 0, "k", "u"),
				op(1, 2, 3, XRange("k"), entries("1-0 u", "2-0 u")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "ids out of order",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("5-0")),
				op(0, 2, 3, XAdd("k", "b"), added("4-9")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "id repeated",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("5-0")),
				op(0, 2, 3, XAdd("k", "b"), added("5-0")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "zero id",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("0-0")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "read returns ids out of order",
			ops: []porcupine.Operation{
				unknownAdd(0, 0, "k", "u"),
				unknownAdd(1, 0, "k", "v"),
				op(2, 2, 3, XRange("k"), entries("3-0 u", "2-0 v")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "read shows an id other than the answered one",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(1, 2, 3, XRange("k"), entries("1-1 a")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "read observes a write that started after it returned",
			ops: []porcupine.Operation{
				op(1, 0, 1, XRange("k"), entries("1-0 a")),
				op(0, 2, 3, XAdd("k", "a"), added("1-0")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "read observes an unknown write that started after it returned",
			ops: []porcupine.Operation{
				op(1, 0, 1, XLen("k"), length(1)),
				unknownAdd(0, 2, "k", "u"),
			},
			want: porcupine.Illegal,
		},
		{
			name: "read observes a payload never written",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(1, 2, 3, XRange("k"), entries("1-0 a", "2-0 zz")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "xlen disagrees",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRange("k"), entries("1-0 a", "2-0 b")),
				op(1, 6, 7, XLen("k"), length(1)),
			},
			want: porcupine.Illegal,
		},
		{
			name: "xread skips an entry",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(0, 4, 5, XAdd("k", "c"), added("3-0")),
				op(1, 6, 7, XRead("k", MustParseID("1-0"), 1), entries("3-0 c")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "xread returns more than count",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRead("k", id0, 1), entries("1-0 a", "2-0 b")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "xread returns fewer than count",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRead("k", id0, 5), entries("1-0 a")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "xread returns the after id itself",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRead("k", MustParseID("1-0"), 0), entries("1-0 a", "2-0 b")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "empty xread with entries after",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				op(0, 2, 3, XAdd("k", "b"), added("2-0")),
				op(1, 4, 5, XRead("k", MustParseID("1-5"), 0), entries()),
			},
			want: porcupine.Illegal,
		},
		{
			// XLEN pins u before the XREAD, whose empty answer bounds u's
			// ID by 5-0; the XRANGE breaks that bound.
			name: "unknown id contradicts an earlier xread",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("1-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 3, 4, XLen("k"), length(2)),
				op(0, 5, 6, XRead("k", MustParseID("5-0"), 0), entries()),
				op(0, 7, 8, XRange("k"), entries("1-0 a", "7-0 u")),
			},
			want: porcupine.Illegal,
		},
		{
			// XLEN pins u after a, so u's ID exceeds 5-0 and an XREAD
			// after 5-0 must return it.
			name: "empty xread hides an unknown entry",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("5-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 3, 4, XLen("k"), length(2)),
				op(0, 5, 6, XRead("k", MustParseID("5-0"), 0), entries()),
			},
			want: porcupine.Illegal,
		},
		{
			// XLEN pins u between 5-0 and 5-1, where no ID fits.
			name: "no room for an unknown id",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("k", "a"), added("5-0")),
				unknownAdd(1, 2, "k", "u"),
				op(0, 3, 4, XLen("k"), length(2)),
				op(0, 5, 6, XAdd("k", "b"), added("5-1")),
			},
			want: porcupine.Illegal,
		},
		{
			name: "one bad key fails the history",
			ops: []porcupine.Operation{
				op(0, 0, 1, XAdd("a", "x"), added("1-0")),
				op(1, 0, 1, XAdd("b", "y"), added("1-0")),
				op(0, 2, 3, XRange("a"), entries("1-0 x")),
				op(1, 2, 3, XRange("b"), entries()),
			},
			want: porcupine.Illegal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(tt.ops, checkTimeout)
			if res.Outcome != tt.want {
				t.Errorf("Check() = %s; want %s", res, tt.want)
			}
		})
	}
}

func TestCheckKeys(t *testing.T) {
	ops := []porcupine.Operation{
		op(0, 0, 1, XAdd("b", "y"), added("1-0")),
		op(1, 0, 1, XAdd("a", "x"), added("1-0")),
		op(1, 2, 3, XRange("a"), entries("1-0 x")),
		op(0, 2, 3, XAdd("b", "z"), added("2-0")),
		op(0, 4, 5, XRange("b"), entries("1-0 y")),
	}
	res := Check(ops, checkTimeout)
	want := []KeyResult{
		{Key: "a", Outcome: porcupine.Ok, Ops: 2, Linearized: 2},
		{Key: "b", Outcome: porcupine.Illegal, Ops: 3, Linearized: 2},
	}
	if res.Outcome != porcupine.Illegal || len(res.Keys) != len(want) {
		t.Fatalf("Check() = %s; want Illegal with %d keys", res, len(want))
	}
	for i := range want {
		if res.Keys[i] != want[i] {
			t.Errorf("Check().Keys[%d] = %+v; want %+v", i, res.Keys[i], want[i])
		}
	}
	if got := res.String(); !strings.Contains(got, `"b" Illegal after 2 of 3 ops`) || strings.Contains(got, `"a"`) {
		t.Errorf("Result.String() = %q; want it to name key b only", got)
	}
}

// hardHistory is not linearizable, and proving so takes porcupine time
// exponential in n: n concurrent writes of unknown outcome, which no read
// shows, may be applied in any subset before an XLEN that counts more.
func hardHistory(n int) []porcupine.Operation {
	var ops []porcupine.Operation
	for i := range n {
		ops = append(ops, unknownAdd(i, int64(i), "k", fmt.Sprintf("p%d", i)))
	}
	return append(ops, op(n, 100, 101, XLen("k"), length(n+1)))
}

func TestCheckTimeout(t *testing.T) {
	// Long enough to show Check waits for it, short enough for a unit
	// test; 2^40 subsets of writes take porcupine far longer.
	const timeout = 50 * time.Millisecond
	res := Check(hardHistory(40), timeout)
	if res.Outcome != porcupine.Unknown {
		t.Fatalf("Check(hard history, %v) = %s; want Unknown", timeout, res)
	}
	if len(res.Keys) != 1 || res.Keys[0].Outcome != porcupine.Unknown {
		t.Errorf("Check(hard history, %v).Keys = %+v; want one Unknown key", timeout, res.Keys)
	}
	if res.Ok() || res.Illegal() {
		t.Errorf("Result{%s}.Ok(), Illegal() = %t, %t; want false, false", res.Outcome, res.Ok(), res.Illegal())
	}
}

func TestVisualize(t *testing.T) {
	ops := []porcupine.Operation{
		op(0, 0, 1, XAdd("k", "a-payload-longer-than-the-limit"), added("1-0")),
		unknownAdd(1, 0, "k", "u"),
		op(1, 2, 3, XRange("k"), entries("1-0 a-payload-longer-than-the-limit", "1-1 u")),
		op(0, 4, 5, XAdd("k", "b"), added("2-0")),
		op(1, 6, 7, XRange("k"), entries("1-0 a-payload-longer-than-the-limit", "1-1 u")),
		op(1, 8, 9, XLen("other"), length(0)),
	}
	res := Check(ops, checkTimeout)
	if !res.Illegal() {
		t.Fatalf("Check() = %s; want Illegal", res)
	}
	path := filepath.Join(t.TempDir(), "history.html")
	if err := res.Visualize(path); err != nil {
		t.Fatalf("Visualize(%q) = %v; want nil", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if !strings.HasPrefix(strings.ToLower(html), "<!doctype html>") {
		t.Errorf("Visualize(%q) wrote %.40q...; want an HTML page", path, html)
	}
	// The descriptions sit in the page as JSON, which escapes ">".
	for _, want := range []string{"XADD k b -> 2-0", "XADD k u -> ? (read as 1-1)", "XADD k a-payload-lon... -> 1-0", "[1-0 a-payload-lon..., 1-1 u]"} {
		j, _ := json.Marshal(want)
		if want := strings.Trim(string(j), `"`); !strings.Contains(html, want) {
			t.Errorf("Visualize(%q) wrote %d bytes without %q", path, len(b), want)
		}
	}
}

func TestVisualizeErrors(t *testing.T) {
	if err := (Result{}).Visualize(filepath.Join(t.TempDir(), "x.html")); err == nil {
		t.Errorf("Result{}.Visualize() = nil; want an error for a result not from Check")
	}
	res := Check(nil, checkTimeout)
	bad := filepath.Join(t.TempDir(), "missing", "x.html")
	if err := res.Visualize(bad); err == nil {
		t.Errorf("Visualize(%q) = nil; want an error", bad)
	}
}
