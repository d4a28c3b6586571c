package fsm

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"testing"
)

// dlqSetup: stream {q}s with 1-1 and 1-2, group g with a policy of 2
// deliveries into {q}dead; 1-1 and 1-2 delivered once to a at 1000.
var dlqSetup = []step{
	{0, "XADD {q}s 1-1 f 1 g x", "1-1"},
	{0, "XADD {q}s 1-2 f 2", "1-2"},
	{0, "XGROUP CREATE {q}s g 0", "+OK"},
	{0, "XGROUP SETDLQ {q}s g 2 {q}dead", "+OK"},
	{1000, "XREADGROUP GROUP g a STREAMS {q}s >", "{{q}s:[[1-1 [f 1 g x]] [1-2 [f 2]]]}"},
}

const dlqEntry11 = "[5000-0 [source-key {q}s source-id 1-1 deliveries 2 f 1 g x]]"

func TestDeadLetter(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"history read", []step{
			{2000, "XREADGROUP GROUP g a COUNT 1 STREAMS {q}s 0", "{{q}s:[[1-1 [f 1 g x]]]}"},
			{5000, "XREADGROUP GROUP g a STREAMS {q}s 0", "{{q}s:[[1-2 [f 2]]]}"},
			{5000, "XRANGE {q}dead - +", "[" + dlqEntry11 + "]"},
			{5000, "XPENDING {q}s g - + 10", "[[1-2 a :0 :2]]"},
			{5000, "XREADGROUP GROUP g a STREAMS {q}s 0", "{{q}s:[]}"},
			{5000, "XRANGE {q}dead - + COUNT 1", "[" + dlqEntry11 + "]"},
			{5000, "XRANGE {q}dead 5000-1 +", "[[5000-1 [source-key {q}s source-id 1-2 deliveries 2 f 2]]]"},
			{5000, "XPENDING {q}s g", "[:0 nil nil *nil]"},
			{5000, "XLEN {q}s", ":2"}, // the source entries stay
		}},
		{"xclaim", []step{
			{2000, "XCLAIM {q}s g b 0 1-1", "[[1-1 [f 1 g x]]]"},
			{5000, "XCLAIM {q}s g b 0 1-1 1-2 JUSTID", "[1-1 1-2]"}, // JUSTID is no delivery
			{5000, "XCLAIM {q}s g b 0 1-1 1-2", "[[1-2 [f 2]]]"},
			{5000, "XRANGE {q}dead - +", "[" + dlqEntry11 + "]"},
			{5000, "XPENDING {q}s g - + 10", "[[1-2 b :0 :2]]"},
		}},
		{"xautoclaim", []step{
			{2000, "XAUTOCLAIM {q}s g b 0 0 COUNT 1", "[1-2 [[1-1 [f 1 g x]]] []]"},
			{5000, "XAUTOCLAIM {q}s g b 0 0 COUNT 1", "[0-0 [[1-2 [f 2]]] []]"},
			{5000, "XRANGE {q}dead - +", "[" + dlqEntry11 + "]"},
		}},
		{"xreadgroup claim", []step{
			{2000, "XREADGROUP GROUP g b COUNT 1 CLAIM 0 STREAMS {q}s >", "{{q}s:[[1-1 [f 1 g x] :1000 :1]]}"},
			{5000, "XREADGROUP GROUP g b CLAIM 0 STREAMS {q}s >", "{{q}s:[[1-2 [f 2] :4000 :1]]}"},
			{5000, "XRANGE {q}dead - +", "[" + dlqEntry11 + "]"},
			{5000, "XPENDING {q}s g - + 10", "[[1-2 b :0 :2]]"},
		}},
		{"NONE removes the policy", []step{
			{0, "XGROUP SETDLQ {q}s g none", "+OK"},
			{2000, "XREADGROUP GROUP g a STREAMS {q}s 0", "{{q}s:[[1-1 [f 1 g x]] [1-2 [f 2]]]}"},
			{5000, "XREADGROUP GROUP g a STREAMS {q}s 0", "{{q}s:[[1-1 [f 1 g x]] [1-2 [f 2]]]}"},
			{5000, "EXISTS {q}dead", ":0"},
		}},
		{"deleted entries are not dead-lettered", []step{
			{0, "XDEL {q}s 1-1", ":1"},
			{2000, "XREADGROUP GROUP g a STREAMS {q}s 0", "{{q}s:[[1-1 *nil] [1-2 [f 2]]]}"},
			{5000, "XREADGROUP GROUP g a STREAMS {q}s 0", "{{q}s:[[1-1 *nil]]}"},
			{5000, "XRANGE {q}dead - +", "[[5000-0 [source-key {q}s source-id 1-2 deliveries 2 f 2]]]"},
		}},
		{"xinfo groups", []step{
			{1000, "XINFO GROUPS {q}s", "[{name:g consumers::1 pending::2 last-delivered-id:1-2 entries-read::2 lag::0 " +
				"dlq-max-deliveries::2 dlq-key:{q}dead}]"},
			{0, "XGROUP SETDLQ {q}s g NONE", "+OK"},
			{1000, "XINFO GROUPS {q}s", "[{name:g consumers::1 pending::2 last-delivered-id:1-2 entries-read::2 lag::0}]"},
		}},
		{"errors", []step{
			{0, "XGROUP SETDLQ {q}s g 0 {q}dead", "-" + errDLQMax},
			{0, "XGROUP SETDLQ {q}s g x {q}dead", "-" + errDLQMax},
			{0, "XGROUP SETDLQ {q}s g 3 dead", "-" + errDLQSlot},
			{0, "XGROUP SETDLQ {q}s g 3 {q}s", "-" + errDLQSame},
			{0, "XGROUP SETDLQ {q}s g 3", "-ERR unknown subcommand or wrong number of arguments for 'SETDLQ'. Try XGROUP HELP."},
			{0, "XGROUP SETDLQ {q}s g 3 {q}d x", "-ERR unknown subcommand or wrong number of arguments for 'SETDLQ'. Try XGROUP HELP."},
			{0, "XGROUP SETDLQ {q}s", "-ERR wrong number of arguments for 'xgroup|setdlq' command"},
			{0, "XGROUP SETDLQ {q}nokey g 3 {q}d", "-" + errXGroupNoKey},
			{0, "XGROUP SETDLQ {q}s nog 3 {q}d", "-NOGROUP No such consumer group 'nog' for key name '{q}s'"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runSteps(t, New(), append(append([]step{}, dlqSetup...), c.steps...))
		})
	}
}

// TestDeadLetterSignals: the dead-letter key is signalled and changes
// version, in the same Apply as the read that diverted the entry.
func TestDeadLetterSignals(t *testing.T) {
	m := New()
	runSteps(t, m, dlqSetup)
	do(m, 2000, args("XREADGROUP GROUP g a STREAMS {q}s 0"))
	v := m.KeyVersion("{q}dead")
	replies, signalled := m.Apply(&Entry{Stamp: 5000, Reqs: []Request{{Cmds: [][][]byte{
		args("XREADGROUP GROUP g a STREAMS {q}s 0")}}}})
	if got := compact(replies[0]); got != "{{q}s:[]}" {
		t.Fatalf("reply = %s; want {{q}s:[]}", got)
	}
	if !reflect.DeepEqual(signalled, []string{"{q}dead"}) {
		t.Fatalf("signalled = %q; want [{q}dead]", signalled)
	}
	if m.KeyVersion("{q}dead") == v {
		t.Fatal("the dead-letter key's version did not change")
	}
}

// TestDeadLetterSnapshot: the policy survives a snapshot round trip, and
// the snapshot bytes are identical after the restore.
func TestDeadLetterSnapshot(t *testing.T) {
	m := New()
	runSteps(t, m, dlqSetup)
	do(m, 0, args("XGROUP CREATE {q}s h 0"))
	var buf bytes.Buffer
	if _, err := m.Snapshot().WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	r := New()
	if err := r.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	var again bytes.Buffer
	if _, err := r.Snapshot().WriteTo(&again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatalf("snapshot of the restored machine differs (err %v)", err)
	}
	for _, c := range []string{"XINFO GROUPS {q}s", "XREADGROUP GROUP g a STREAMS {q}s 0", "XRANGE {q}dead - +"} {
		a, b := compact(do(m, 5000, args(c))), compact(do(r, 5000, args(c)))
		if a != b {
			t.Fatalf("%s after restore = %s; want %s", c, b, a)
		}
	}
	if got := compact(do(r, 9000, args("XREADGROUP GROUP g a STREAMS {q}s 0"))); got != "{{q}s:[]}" {
		t.Fatalf("restored dead-lettering = %s; want {{q}s:[]}", got)
	}
}

// TestRestoreVersion2: a version 2 snapshot (no dead-letter policies; for
// streams without groups the bytes are the same but for the version byte)
// still restores.
func TestRestoreVersion2(t *testing.T) {
	m := New()
	do(m, 0, args("XADD s 1-1 f v"))
	var buf bytes.Buffer
	if _, err := m.Snapshot().WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	b := buf.Bytes()
	b[len(snapMagic)] = 2
	body := b[:len(b)-4]
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(body))
	r := New()
	if err := r.Restore(bytes.NewReader(b)); err != nil {
		t.Fatalf("Restore(version 2) = %v; want nil", err)
	}
	if got := compact(do(r, 0, args("XRANGE s - +"))); got != "[[1-1 [f v]]]" {
		t.Fatalf("XRANGE after restore = %s; want [[1-1 [f v]]]", got)
	}
	b[len(snapMagic)] = 1
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(body))
	if err := r.Restore(bytes.NewReader(b)); err == nil {
		t.Fatal("Restore(version 1) = nil; want an error")
	}
}
