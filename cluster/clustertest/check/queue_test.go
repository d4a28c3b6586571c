package check

import (
	"reflect"
	"strings"
	"testing"
)

func id(s string) ID { return MustParseID(s) }

// cleanQueue is a drained work queue on key q, group g: three answered
// writes, one unknown write that took effect and one that did not; c1
// died holding 2-0, which c2 claimed; every entry acknowledged.
func cleanQueue() QueueHistory {
	return QueueHistory{
		Produced: []Produced{
			{Key: "q", ID: id("1-0"), Payload: "a"},
			{Key: "q", ID: id("2-0"), Payload: "b"},
			{Key: "q", ID: id("4-0"), Payload: "d"},
		},
		ProducedUnknown: []Produced{{Key: "q", Payload: "c"}, {Key: "q", Payload: "never"}},
		Deliveries: []Delivery{
			{Consumer: "c1", Key: "q", ID: id("1-0"), Payload: "a", Via: "XREADGROUP"},
			{Consumer: "c1", Key: "q", ID: id("2-0"), Payload: "b", Via: "XREADGROUP"},
			{Consumer: "c2", Key: "q", ID: id("3-0"), Payload: "c", Via: "XREADGROUP"},
			{Consumer: "c2", Key: "q", ID: id("2-0"), Payload: "b", Via: "XAUTOCLAIM"},
			{Consumer: "c2", Key: "q", ID: id("4-0"), Payload: "d", Via: "XREADGROUP"},
		},
		Acks: []Ack{
			{Key: "q", Group: "g", ID: id("1-0")},
			{Key: "q", Group: "g", ID: id("2-0")},
			{Key: "q", Group: "g", ID: id("3-0")},
			{Key: "q", Group: "g", ID: id("4-0")},
		},
		Final: []Final{{Key: "q", Entries: []Entry{
			{ID: id("1-0"), Payload: "a"}, {ID: id("2-0"), Payload: "b"},
			{ID: id("3-0"), Payload: "c"}, {ID: id("4-0"), Payload: "d"},
		}}},
	}
}

func TestCheckQueueClean(t *testing.T) {
	rep := CheckQueue(cleanQueue())
	if got := rep.Anomalies(); len(got) != 0 || !rep.Ok() {
		t.Errorf("CheckQueue(clean).Anomalies() = %q; want none", got)
	}
	want := QueueReport{Produced: 3, ProducedUnknown: 2, UnknownApplied: 1, Delivered: 4, Deliveries: 5, Duplicates: 1, Acked: 4}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("CheckQueue(clean) = %+v; want %+v", rep, want)
	}
	wantSummary := "produced=3 unknown=2 (applied 1) delivered=4 deliveries=5 redeliveries=1 acked=4 undrained=0; " +
		"lost=0 pending-after-ack=0 invented=0 duplicated-writes=0 conflicts=0"
	if got := rep.Summary(); got != wantSummary {
		t.Errorf("Summary() = %q; want %q", got, wantSummary)
	}
}

func TestCheckQueueAnomalies(t *testing.T) {
	tests := []struct {
		name   string
		change func(h *QueueHistory)
		want   []string // one substring per anomaly, in order
	}{
		{
			name: "lost write",
			change: func(h *QueueHistory) {
				h.Produced = append(h.Produced, Produced{Key: "q", ID: id("5-0"), Payload: "e"})
			},
			want: []string{`lost write: XADD q "e" answered 5-0`},
		},
		{
			name: "delivered, never acknowledged, not pending",
			change: func(h *QueueHistory) {
				h.Acks = h.Acks[1:]
			},
			want: []string{`lost write: XADD q "a" answered 1-0`},
		},
		{
			name: "pending after ack",
			change: func(h *QueueHistory) {
				h.Final[0].Pending = []PendingEntry{{Group: "g", ID: id("2-0"), Consumer: "c1"}}
			},
			want: []string{"pending after ack: q 2-0 still pending in group g (consumer c1)"},
		},
		{
			name: "invented delivery",
			change: func(h *QueueHistory) {
				h.Deliveries = append(h.Deliveries, Delivery{Consumer: "c3", Key: "q", ID: id("9-0"), Payload: "zz", Via: "XCLAIM"})
			},
			want: []string{`invented entry: q 9-0 "zz" (delivery to c3 via XCLAIM)`},
		},
		{
			name: "invented in the final stream",
			change: func(h *QueueHistory) {
				h.Final[0].Entries = append(h.Final[0].Entries, Entry{ID: id("9-0"), Payload: "zz"})
			},
			want: []string{`invented entry: q 9-0 "zz" (final stream)`},
		},
		{
			name: "payload written to another key",
			change: func(h *QueueHistory) {
				h.Final = append(h.Final, Final{Key: "other", Entries: []Entry{{ID: id("1-0"), Payload: "a"}}})
			},
			want: []string{`invented entry: other 1-0 "a" (final stream)`},
		},
		{
			name: "write applied twice",
			change: func(h *QueueHistory) {
				h.Final[0].Entries = append(h.Final[0].Entries, Entry{ID: id("5-0"), Payload: "b"})
			},
			want: []string{`duplicated write: q "b" stored under 2 ids 2-0, 5-0`},
		},
		{
			name: "unknown write applied twice",
			change: func(h *QueueHistory) {
				h.Deliveries = append(h.Deliveries, Delivery{Consumer: "c1", Key: "q", ID: id("5-0"), Payload: "c", Via: "XREADGROUP"})
			},
			want: []string{`duplicated write: q "c" stored under 2 ids 3-0, 5-0`},
		},
		{
			name: "answered id differs from the stored one",
			change: func(h *QueueHistory) {
				h.Produced[2].ID = id("3-5")
				h.Acks = append(h.Acks, Ack{Key: "q", Group: "g", ID: id("3-5")})
			},
			want: []string{`duplicated write: q "d" stored under 2 ids 3-5, 4-0`},
		},
		{
			name: "one id, two payloads",
			change: func(h *QueueHistory) {
				h.Deliveries[4].ID = id("3-0")
			},
			want: []string{
				`duplicated write: q "d" stored under 2 ids 3-0, 4-0`,
				`conflicting entry: q 3-0 seen with 2 payloads ["c" "d"]`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cleanQueue()
			tt.change(&h)
			rep := CheckQueue(h)
			got := rep.Anomalies()
			if len(got) != len(tt.want) || rep.Ok() {
				t.Fatalf("CheckQueue().Anomalies() = %q; want %d matching %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("Anomalies()[%d] = %q; want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestCheckQueueNotAnomalies(t *testing.T) {
	tests := []struct {
		name   string
		change func(h *QueueHistory)
		check  func(t *testing.T, rep QueueReport)
	}{
		{
			name: "undrained entry is reported, not flagged",
			change: func(h *QueueHistory) {
				h.Acks = h.Acks[:3]
				h.Final[0].Pending = []PendingEntry{{Group: "g", ID: id("4-0"), Consumer: "c2"}}
			},
			check: func(t *testing.T, rep QueueReport) {
				want := []PendingEntry{{Key: "q", Group: "g", ID: id("4-0"), Consumer: "c2"}}
				if !reflect.DeepEqual(rep.Undrained, want) {
					t.Errorf("Undrained = %+v; want %+v", rep.Undrained, want)
				}
			},
		},
		{
			name: "unknown ack excuses a missing ack",
			change: func(h *QueueHistory) {
				h.AcksUnknown = h.Acks[3:]
				h.Acks = h.Acks[:3]
			},
			check: func(t *testing.T, rep QueueReport) {
				if rep.Acked != 3 {
					t.Errorf("Acked = %d; want 3, the successful XACKs", rep.Acked)
				}
			},
		},
		{
			name: "pending after an unknown ack",
			change: func(h *QueueHistory) {
				h.AcksUnknown = h.Acks[3:]
				h.Acks = h.Acks[:3]
				h.Final[0].Pending = []PendingEntry{{Group: "g", ID: id("4-0"), Consumer: "c2"}}
			},
			check: func(t *testing.T, rep QueueReport) {},
		},
		{
			name: "ack in another group leaves this group's entry pending",
			change: func(h *QueueHistory) {
				h.Final[0].Pending = []PendingEntry{{Group: "audit", ID: id("2-0"), Consumer: "x"}}
			},
			check: func(t *testing.T, rep QueueReport) {
				if len(rep.Undrained) != 1 || rep.Undrained[0].Group != "audit" {
					t.Errorf("Undrained = %+v; want the audit group's entry", rep.Undrained)
				}
			},
		},
		{
			name: "many redeliveries",
			change: func(h *QueueHistory) {
				for range 3 {
					h.Deliveries = append(h.Deliveries, Delivery{Consumer: "c3", Key: "q", ID: id("1-0"), Payload: "a", Via: "XCLAIM"})
				}
			},
			check: func(t *testing.T, rep QueueReport) {
				if rep.Duplicates != 4 || rep.Delivered != 4 || rep.Deliveries != 8 {
					t.Errorf("Duplicates, Delivered, Deliveries = %d, %d, %d; want 4, 4, 8", rep.Duplicates, rep.Delivered, rep.Deliveries)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cleanQueue()
			tt.change(&h)
			rep := CheckQueue(h)
			if got := rep.Anomalies(); len(got) != 0 {
				t.Errorf("CheckQueue().Anomalies() = %q; want none", got)
			}
			tt.check(t, rep)
		})
	}
}
