package check

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestRecorderHistory(t *testing.T) {
	rec := NewRecorder()
	rec.Invoke(0, XAdd("k", "a")).Ok(added("1-0"))
	rec.Invoke(1, XAdd("k", "u")).Unknown()
	rec.Invoke(2, XAdd("k", "f")).Fail()
	rec.Invoke(0, XRange("k")).Unknown()
	rec.Invoke(1, XLen("k")).Ok(length(1))
	rec.Invoke(2, XAdd("k", "w")) // still in flight
	rec.Invoke(3, XLen("k"))      // still in flight

	wantStatus := []Status{StatusOK, StatusUnknown, StatusFailed, StatusUnknown, StatusOK, StatusInFlight, StatusInFlight}
	recs := rec.Records()
	if len(recs) != len(wantStatus) {
		t.Fatalf("Records() has %d records; want %d", len(recs), len(wantStatus))
	}
	var last int64
	for i, r := range recs {
		if r.Status != wantStatus[i] {
			t.Errorf("Records()[%d].Status = %s; want %s", i, r.Status, wantStatus[i])
		}
		if r.Call < last {
			t.Errorf("Records()[%d].Call = %d, before the previous call at %d", i, r.Call, last)
		}
		if r.Status != StatusInFlight && r.Return < r.Call {
			t.Errorf("Records()[%d] returns at %d, before its call at %d", i, r.Return, r.Call)
		}
		last = r.Call
	}
	if got, want := rec.Counts(), (Counts{OK: 2, Unknown: 2, Failed: 1, InFlight: 2}); got != want {
		t.Errorf("Counts() = %+v; want %+v", got, want)
	}

	ops := rec.Operations()
	want := []struct {
		in      Input
		out     Output
		returns int64 // 0: the record's own return time
	}{
		{XAdd("k", "a"), added("1-0"), 0},
		{XAdd("k", "u"), Output{Unknown: true}, Infinity},
		{XLen("k"), length(1), 0},
		{XAdd("k", "w"), Output{Unknown: true}, Infinity},
	}
	if len(ops) != len(want) {
		t.Fatalf("Operations() = %d operations %v; want %d", len(ops), ops, len(want))
	}
	for i, w := range want {
		if ops[i].Input != w.in || !reflect.DeepEqual(ops[i].Output, w.out) {
			t.Errorf("Operations()[%d] = %s; want %s", i, describe(ops[i].Input.(Input), ops[i].Output.(Output)), describe(w.in, w.out))
		}
		if w.returns != 0 && ops[i].Return != w.returns {
			t.Errorf("Operations()[%d].Return = %d; want %d", i, ops[i].Return, w.returns)
		}
		if ops[i].Return < ops[i].Call {
			t.Errorf("Operations()[%d] returns at %d, before its call at %d", i, ops[i].Return, ops[i].Call)
		}
	}
	if got := Check(ops, checkTimeout); !got.Ok() {
		t.Errorf("Check(Operations()) = %s; want Ok", got)
	}
}

func TestRecorderZeroValue(t *testing.T) {
	var rec Recorder
	rec.Invoke(0, XLen("k")).Ok(length(0))
	if got := rec.Counts(); got.OK != 1 {
		t.Errorf("zero Recorder: Counts() = %+v; want one ok", got)
	}
}

func TestRecorderKeepsItsOwnEntries(t *testing.T) {
	rec := NewRecorder()
	out := entries("1-0 a")
	rec.Invoke(0, XRange("k")).Ok(out)
	out.Entries[0].Payload = "changed"
	if got := rec.Records()[0].Output.Entries[0].Payload; got != "a" {
		t.Errorf("recorded payload = %q after the caller changed its slice; want %q", got, "a")
	}
}

func TestPendingEndsOnce(t *testing.T) {
	rec := NewRecorder()
	p := rec.Invoke(0, XAdd("k", "a"))
	p.Unknown()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "ended twice") {
			t.Errorf("second end of a Pending: recover() = %v; want an \"ended twice\" panic", r)
		}
	}()
	p.Ok(added("1-0"))
}

func TestRecorderJSON(t *testing.T) {
	rec := NewRecorder()
	rec.Invoke(0, XAdd("k", "a")).Ok(added("1-0"))
	rec.Invoke(1, XAdd("k", "u")).Unknown()
	rec.Invoke(2, XRead("k", ID{1, 0}, 5)).Ok(entries())
	rec.Invoke(0, XRange("k")).Ok(entries("1-0 a"))
	rec.Invoke(1, XLen("k")).Fail()

	path := filepath.Join(t.TempDir(), "history.json")
	if err := rec.WriteJSON(path); err != nil {
		t.Fatalf("WriteJSON(%q) = %v; want nil", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ok": 3`, `"unknown": 1`, `"failed": 1`, `"op": "XREAD"`, `"after": "1-0"`, `"id": "1-0"`, `"status": "unknown"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("WriteJSON wrote %s; want it to contain %s", b, want)
		}
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatalf("ReadJSON(%q) = %v; want nil", path, err)
	}
	if want := rec.Records(); !reflect.DeepEqual(got, want) {
		t.Errorf("ReadJSON(%q) = %+v; want %+v", path, got, want)
	}

	bad := filepath.Join(t.TempDir(), "missing", "history.json")
	if err := rec.WriteJSON(bad); err == nil {
		t.Errorf("WriteJSON(%q) = nil; want an error", bad)
	}
	if _, err := ReadJSON(bad); err == nil {
		t.Errorf("ReadJSON(%q) = nil error; want one", bad)
	}
}

// TestRecorderConcurrentClients records concurrent clients of fakeStream,
// some of whose answers are lost, and checks the history is linearizable.
func TestRecorderConcurrentClients(t *testing.T) {
	const clients, opsPerClient = 4, 60
	var f fakeStream
	rec := NewRecorder()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range opsPerClient {
				var in Input
				switch i % 4 {
				case 0, 1:
					in = XAdd("k", fmt.Sprintf("c%d-%d", c, i))
				case 2:
					in = XRead("k", ID{Ms: uint64(i / 8)}, 3)
				default:
					in = []Input{XLen("k"), XRange("k")}[i/4%2]
				}
				p := rec.Invoke(c, in)
				switch {
				case in.Op == OpXAdd && i%9 == 0: // applied, answer lost
					f.do(in)
					p.Unknown()
				case in.Op == OpXAdd && i%13 == 1: // lost before it was applied
					p.Unknown()
				case in.Op == OpXAdd && i%11 == 4: // redirected
					p.Fail()
				case i%10 == 3: // a read timed out
					f.do(in)
					p.Unknown()
				default:
					p.Ok(f.do(in))
				}
			}
		})
	}
	wg.Wait()
	// The workload ends as fault tests should: one XRANGE after every
	// client stopped, so unknown writes no read shows cost nothing.
	final := rec.Invoke(0, XRange("k"))
	final.Ok(f.do(XRange("k")))
	counts := rec.Counts()
	if counts.OK+counts.Unknown+counts.Failed != clients*opsPerClient+1 || counts.Unknown == 0 || counts.Failed == 0 {
		t.Errorf("Counts() = %+v; want %d ops, some unknown and some failed", counts, clients*opsPerClient)
	}
	if res := Check(rec.Operations(), checkTimeout); !res.Ok() {
		path := filepath.Join(t.TempDir(), "history.html")
		t.Errorf("Check() = %s; want Ok (visualization: %s, %v)", res, path, res.Visualize(path))
	}

	// The same history with one acknowledged write dropped from the log
	// that the last read returned is not linearizable.
	ops := rec.Operations()
	last := lastFullRead(ops)
	out := ops[last].Output.(Output)
	out.Entries = append(append([]Entry{}, out.Entries[:1]...), out.Entries[2:]...)
	ops[last].Output = out
	if res := Check(ops, checkTimeout); res.Outcome != porcupine.Illegal {
		t.Errorf("Check(history with a lost entry) = %s; want Illegal", res)
	}
}

// lastFullRead returns the index of the last XRANGE with two entries or more.
func lastFullRead(ops []porcupine.Operation) int {
	last := -1
	for i, op := range ops {
		if op.Input.(Input).Op == OpXRange && len(op.Output.(Output).Entries) > 1 {
			last = i
		}
	}
	return last
}
