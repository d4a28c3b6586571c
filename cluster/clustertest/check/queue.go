package check

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Produced is an XADD: the ID is the server's answer, zero when the
// outcome is unknown.
type Produced struct {
	Key     string `json:"key"`
	ID      ID     `json:"id,omitzero"`
	Payload string `json:"payload"`
}

// Delivery is an entry a consumer received.
type Delivery struct {
	Consumer string `json:"consumer"`
	Key      string `json:"key"`
	ID       ID     `json:"id"`
	Payload  string `json:"payload"`
	Via      string `json:"via"` // XREADGROUP, XCLAIM or XAUTOCLAIM
}

// Ack is an XACK of one ID.
type Ack struct {
	Key   string `json:"key"`
	Group string `json:"group"`
	ID    ID     `json:"id"`
}

// PendingEntry is one line of a group's pending entries list. Inside a
// Final, Key may be left empty: it is the Final's.
type PendingEntry struct {
	Key      string `json:"key"`
	Group    string `json:"group"`
	ID       ID     `json:"id"`
	Consumer string `json:"consumer"`
}

// Final is a stream as read once the workload has drained: its entries
// (XRANGE) and the pending entries of its groups (XPENDING).
type Final struct {
	Key     string         `json:"key"`
	Entries []Entry        `json:"entries"`
	Pending []PendingEntry `json:"pending"`
}

// QueueHistory is what the clients of a work-queue workload saw. The
// workload never retries an XADD, so a payload is written at most once.
type QueueHistory struct {
	Produced        []Produced // XADDs answered with an ID
	ProducedUnknown []Produced // XADDs of unknown outcome; ID unused
	Deliveries      []Delivery
	// Acks are XACKs the server answered, whatever count it returned:
	// after such an answer the ID is in no pending list of that group.
	Acks []Ack
	// AcksUnknown are XACKs of unknown outcome. They excuse an entry from
	// being lost, but an entry still pending after one is no anomaly.
	AcksUnknown []Ack
	Final       []Final
}

// Sighting is an entry seen somewhere, where saying how.
type Sighting struct {
	Key     string `json:"key"`
	ID      ID     `json:"id"`
	Payload string `json:"payload"`
	Where   string `json:"where"`
}

// DuplicatedWrite is a payload stored under several IDs of one key.
type DuplicatedWrite struct {
	Key     string `json:"key"`
	Payload string `json:"payload"`
	IDs     []ID   `json:"ids"`
}

// Conflict is one ID seen with several payloads.
type Conflict struct {
	Key      string   `json:"key"`
	ID       ID       `json:"id"`
	Payloads []string `json:"payloads"`
}

// QueueReport is CheckQueue's verdict. The counts describe the run; the
// lists are anomalies, except Undrained.
type QueueReport struct {
	Produced        int // XADDs answered with an ID
	ProducedUnknown int // XADDs of unknown outcome
	UnknownApplied  int // of those, how many were seen delivered or stored
	Delivered       int // distinct entries delivered at least once
	Deliveries      int // deliveries, redeliveries included
	Duplicates      int // redeliveries: deliveries of an entry after its first; legitimate
	Acked           int // distinct entries acknowledged by a successful XACK

	// Undrained lists final pending entries their group never
	// acknowledged: the workload did not drain them, so they prove
	// nothing either way.
	Undrained []PendingEntry

	// Lost: answered XADDs never acknowledged and not pending at the end.
	Lost []Produced
	// PendingAfterAck: entries still pending in a group that acknowledged them.
	PendingAfterAck []PendingEntry
	// Invented: entries delivered or stored whose payload no XADD to that
	// key wrote, answered or not.
	Invented []Sighting
	// DuplicatedWrites: payloads stored under more than one ID, counting
	// the ID the XADD answered: one XADD applied twice.
	DuplicatedWrites []DuplicatedWrite
	// Conflicts: IDs seen with more than one payload.
	Conflicts []Conflict
}

type entryKey struct {
	key string
	id  ID
}

type groupEntry struct {
	key, group string
	id         ID
}

// CheckQueue checks a work-queue history. An entry counts as acknowledged
// if any group acknowledged it, which is exact for the one group per key
// a work queue has; pending entries are judged by their own group.
func CheckQueue(h QueueHistory) QueueReport {
	rep := QueueReport{Produced: len(h.Produced), ProducedUnknown: len(h.ProducedUnknown), Deliveries: len(h.Deliveries)}
	rep.checkWrites(h)
	rep.checkAcks(h)
	rep.sort()
	return rep
}

// checkWrites looks at every place an entry shows up (an XADD's answer,
// deliveries, the final stream) for entries nobody wrote, payloads under
// several IDs and IDs with several payloads, and counts deliveries.
func (r *QueueReport) checkWrites(h QueueHistory) {
	written := make(map[payloadKey]bool)
	for _, p := range slices.Concat(h.Produced, h.ProducedUnknown) {
		written[payloadKey{p.Key, p.Payload}] = true
	}
	ids := make(map[payloadKey]map[ID]bool)
	payloads := make(map[entryKey]map[string]bool)
	invented := make(map[Sighting]bool)
	seen := func(key string, id ID, payload, where string) {
		pk, ek := payloadKey{key, payload}, entryKey{key, id}
		if ids[pk] == nil {
			ids[pk] = make(map[ID]bool)
		}
		ids[pk][id] = true
		if payloads[ek] == nil {
			payloads[ek] = make(map[string]bool)
		}
		payloads[ek][payload] = true
		if s := (Sighting{Key: key, ID: id, Payload: payload}); !written[pk] && !invented[s] {
			invented[s] = true
			s.Where = where
			r.Invented = append(r.Invented, s)
		}
	}
	for _, p := range h.Produced {
		seen(p.Key, p.ID, p.Payload, "XADD answer")
	}
	delivered := make(map[entryKey]int)
	for _, d := range h.Deliveries {
		seen(d.Key, d.ID, d.Payload, fmt.Sprintf("delivery to %s via %s", d.Consumer, d.Via))
		delivered[entryKey{d.Key, d.ID}]++
	}
	for _, f := range h.Final {
		for _, e := range f.Entries {
			seen(f.Key, e.ID, e.Payload, "final stream")
		}
	}
	r.Delivered = len(delivered)
	for _, n := range delivered {
		r.Duplicates += n - 1
	}
	for _, p := range h.ProducedUnknown {
		if len(ids[payloadKey{p.Key, p.Payload}]) > 0 {
			r.UnknownApplied++
		}
	}
	r.DuplicatedWrites = duplicatedWrites(ids)
	r.Conflicts = conflicts(payloads)
}

// checkAcks finds answered writes never acknowledged and entries pending
// after an acknowledgement, and counts acknowledged entries.
func (r *QueueReport) checkAcks(h QueueHistory) {
	acked := make(map[entryKey]bool)          // by any group, answered or not
	ackedIn := make(map[groupEntry]bool)      // answered XACKs, by group
	mayBeAckedIn := make(map[groupEntry]bool) // answered or not, by group
	for _, a := range h.Acks {
		acked[entryKey{a.Key, a.ID}] = true
		ackedIn[groupEntry{a.Key, a.Group, a.ID}] = true
		mayBeAckedIn[groupEntry{a.Key, a.Group, a.ID}] = true
	}
	r.Acked = len(acked)
	for _, a := range h.AcksUnknown {
		acked[entryKey{a.Key, a.ID}] = true
		mayBeAckedIn[groupEntry{a.Key, a.Group, a.ID}] = true
	}
	pending := make(map[entryKey]bool)
	for _, f := range h.Final {
		for _, p := range f.Pending {
			p.Key = cmp.Or(p.Key, f.Key)
			pending[entryKey{p.Key, p.ID}] = true
			switch ge := (groupEntry{p.Key, p.Group, p.ID}); {
			case ackedIn[ge]:
				r.PendingAfterAck = append(r.PendingAfterAck, p)
			case !mayBeAckedIn[ge]:
				r.Undrained = append(r.Undrained, p)
			}
		}
	}
	for _, p := range h.Produced {
		if ek := (entryKey{p.Key, p.ID}); !acked[ek] && !pending[ek] {
			r.Lost = append(r.Lost, p)
		}
	}
}

func duplicatedWrites(ids map[payloadKey]map[ID]bool) []DuplicatedWrite {
	var out []DuplicatedWrite
	for pk, set := range ids {
		if len(set) > 1 {
			list := slices.SortedFunc(maps.Keys(set), ID.Compare)
			out = append(out, DuplicatedWrite{Key: pk.key, Payload: pk.payload, IDs: list})
		}
	}
	return out
}

func conflicts(payloads map[entryKey]map[string]bool) []Conflict {
	var out []Conflict
	for ek, set := range payloads {
		if len(set) > 1 {
			out = append(out, Conflict{Key: ek.key, ID: ek.id, Payloads: slices.Sorted(maps.Keys(set))})
		}
	}
	return out
}

// sort orders every list by key then ID, so reports compare and read well.
func (r *QueueReport) sort() {
	byEntry := func(ak string, aid ID, bk string, bid ID) int {
		return cmp.Or(strings.Compare(ak, bk), aid.Compare(bid))
	}
	pendingOrder := func(a, b PendingEntry) int {
		return cmp.Or(byEntry(a.Key, a.ID, b.Key, b.ID), strings.Compare(a.Group, b.Group))
	}
	slices.SortFunc(r.Undrained, pendingOrder)
	slices.SortFunc(r.PendingAfterAck, pendingOrder)
	slices.SortFunc(r.Lost, func(a, b Produced) int { return byEntry(a.Key, a.ID, b.Key, b.ID) })
	slices.SortFunc(r.Invented, func(a, b Sighting) int {
		return cmp.Or(byEntry(a.Key, a.ID, b.Key, b.ID), strings.Compare(a.Payload, b.Payload))
	})
	slices.SortFunc(r.DuplicatedWrites, func(a, b DuplicatedWrite) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Payload, b.Payload))
	})
	slices.SortFunc(r.Conflicts, func(a, b Conflict) int { return byEntry(a.Key, a.ID, b.Key, b.ID) })
}

// Ok reports whether the run showed no anomaly.
func (r QueueReport) Ok() bool { return len(r.Anomalies()) == 0 }

// Anomalies describes each anomaly on a line of its own, by kind.
func (r QueueReport) Anomalies() []string {
	var out []string
	for _, p := range r.Lost {
		out = append(out, fmt.Sprintf("lost write: XADD %s %q answered %s, never acknowledged and not pending", p.Key, p.Payload, p.ID))
	}
	for _, p := range r.PendingAfterAck {
		out = append(out, fmt.Sprintf("pending after ack: %s %s still pending in group %s (consumer %s) after a successful XACK", p.Key, p.ID, p.Group, p.Consumer))
	}
	for _, s := range r.Invented {
		out = append(out, fmt.Sprintf("invented entry: %s %s %q (%s) was never written", s.Key, s.ID, s.Payload, s.Where))
	}
	for _, d := range r.DuplicatedWrites {
		out = append(out, fmt.Sprintf("duplicated write: %s %q stored under %d ids %s", d.Key, d.Payload, len(d.IDs), joinIDs(d.IDs)))
	}
	for _, c := range r.Conflicts {
		out = append(out, fmt.Sprintf("conflicting entry: %s %s seen with %d payloads %q", c.Key, c.ID, len(c.Payloads), c.Payloads))
	}
	return out
}

func joinIDs(ids []ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ", ")
}

// Summary is the report on one line.
func (r QueueReport) Summary() string {
	return fmt.Sprintf("produced=%d unknown=%d (applied %d) delivered=%d deliveries=%d redeliveries=%d acked=%d undrained=%d; "+
		"lost=%d pending-after-ack=%d invented=%d duplicated-writes=%d conflicts=%d",
		r.Produced, r.ProducedUnknown, r.UnknownApplied, r.Delivered, r.Deliveries, r.Duplicates, r.Acked, len(r.Undrained),
		len(r.Lost), len(r.PendingAfterAck), len(r.Invented), len(r.DuplicatedWrites), len(r.Conflicts))
}
