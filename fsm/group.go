package fsm

import "github.com/tidwall/btree"

// invalidEntriesRead marks a group's entries_read as unknown (Redis's
// SCG_INVALID_ENTRIES_READ).
const invalidEntriesRead = -1

// group is one consumer group. Its three trees hold items by value, so a
// snapshot clones them with Copy() in O(1) each (see Machine.Snapshot).
type group struct {
	name        string
	lastID      ID    // last delivered ID
	entriesRead int64 // invalidEntriesRead when unknown
	// pel is the group's pending entries list, ordered by ID.
	pel *btree.BTreeG[nack]
	// cpel indexes pel by (owner, ID): each consumer's own PEL.
	cpel *btree.BTreeG[cref]
	// consumers, ordered by name.
	consumers *btree.BTreeG[consumer]
	// dlqMax and dlqKey are the dead-letter policy (see dlq.go); dlqMax 0:
	// none.
	dlqMax uint64
	dlqKey string
}

// nack is one pending entry: delivered to owner, not yet acknowledged.
type nack struct {
	id    ID
	owner string
	time  int64  // last delivery, ms since the epoch (Entry.Stamp)
	count uint64 // number of deliveries
}

// cref is one entry of a consumer's PEL.
type cref struct {
	owner string
	id    ID
}

// consumer is one consumer of a group.
type consumer struct {
	name    string
	seen    int64 // last attempted interaction
	active  int64 // last successful interaction; -1 never
	pending int   // entries of cpel with this owner
}

func groupLess(a, b *group) bool      { return a.name < b.name }
func nackLess(a, b nack) bool         { return a.id.Less(b.id) }
func consumerLess(a, b consumer) bool { return a.name < b.name }
func crefLess(a, b cref) bool {
	if a.owner != b.owner {
		return a.owner < b.owner
	}
	return a.id.Less(b.id)
}

var noLocks = btree.Options{NoLocks: true}

func newGroupTree() *btree.BTreeG[*group] { return btree.NewBTreeGOptions(groupLess, noLocks) }

func newGroup(name string, last ID, entriesRead int64) *group {
	return &group{
		name:        name,
		lastID:      last,
		entriesRead: entriesRead,
		pel:         btree.NewBTreeGOptions(nackLess, noLocks),
		cpel:        btree.NewBTreeGOptions(crefLess, noLocks),
		consumers:   btree.NewBTreeGOptions(consumerLess, noLocks),
	}
}

// clone returns a copy of g sharing its trees copy-on-write.
func (g *group) clone() *group {
	c := *g
	c.pel = g.pel.Copy()
	c.cpel = g.cpel.Copy()
	c.consumers = g.consumers.Copy()
	return &c
}

// cloneGroups returns a copy of a stream's groups for a snapshot.
func cloneGroups(t *btree.BTreeG[*group]) *btree.BTreeG[*group] {
	if t == nil {
		return nil
	}
	out := newGroupTree()
	t.Scan(func(g *group) bool { out.Load(g.clone()); return true })
	return out
}

// group returns the stream's group name, or nil.
func (s *stream) group(name []byte) *group {
	if s.groups == nil {
		return nil
	}
	g, _ := s.groups.Get(&group{name: string(name)})
	return g
}

// groupCount is the number of groups of s.
func (s *stream) groupCount() int {
	if s.groups == nil {
		return 0
	}
	return s.groups.Len()
}

// consumer returns the named consumer.
func (g *group) consumer(name string) (consumer, bool) {
	return g.consumers.Get(consumer{name: name})
}

// touchConsumer returns the named consumer, created if needed, with its
// seen time set to now. created reports a new consumer.
func (g *group) touchConsumer(name string, now int64) (c consumer, created bool) {
	c, ok := g.consumer(name)
	if !ok {
		c = consumer{name: name, active: -1}
	}
	c.seen = now
	g.consumers.Set(c)
	return c, !ok
}

// seeConsumer refreshes the seen time of the named consumer if it exists.
// XCLAIM and XAUTOCLAIM create their consumer only when they claim
// something, as Redis 7.0 does.
func (g *group) seeConsumer(name string, now int64) {
	if c, ok := g.consumer(name); ok {
		c.seen = now
		g.consumers.Set(c)
	}
}

// setActive records a successful interaction of the named consumer.
func (g *group) setActive(name string, now int64) {
	if c, ok := g.consumer(name); ok {
		c.active = now
		g.consumers.Set(c)
	}
}

// addPending adjusts a consumer's pending counter.
func (g *group) addPending(name string, delta int) {
	if c, ok := g.consumer(name); ok {
		c.pending += delta
		g.consumers.Set(c)
	}
}

// setOwner records n in the PEL, moving it from its previous owner (if any
// and different) to n.owner.
func (g *group) setOwner(n nack) {
	prev, ok := g.pel.Set(n)
	if ok && prev.owner == n.owner {
		return
	}
	if ok {
		g.cpel.Delete(cref{prev.owner, n.id})
		g.addPending(prev.owner, -1)
	}
	g.cpel.Set(cref{n.owner, n.id})
	g.addPending(n.owner, 1)
}

// unpend removes id from the PEL; it reports whether it was pending.
func (g *group) unpend(id ID) bool {
	n, ok := g.pel.Delete(nack{id: id})
	if !ok {
		return false
	}
	g.cpel.Delete(cref{n.owner, id})
	g.addPending(n.owner, -1)
	return true
}

// deleteConsumer removes a consumer and its pending entries; it returns how
// many entries it had pending.
func (g *group) deleteConsumer(name string) (int, bool) {
	c, ok := g.consumers.Delete(consumer{name: name})
	if !ok {
		return 0, false
	}
	var ids []ID
	g.cpel.Ascend(cref{owner: name}, func(r cref) bool {
		if r.owner != name {
			return false
		}
		ids = append(ids, r.id)
		return true
	})
	for _, id := range ids {
		g.pel.Delete(nack{id: id})
		g.cpel.Delete(cref{name, id})
	}
	return c.pending, true
}

// entryExists reports whether id is a live entry of s.
func (s *stream) entryExists(id ID) bool {
	var buf [1]hit
	return len(s.collect(id, id, 1, buf[:0])) == 1
}

// entryReply returns [id, [f, v, ...]] for a live entry, ok false when id is
// not in the stream.
func (s *stream) entryReply(id ID) (Reply, bool) {
	var buf [1]hit
	hits := s.collect(id, id, 1, buf[:0])
	if len(hits) == 0 {
		return Reply{}, false
	}
	return entriesReply(hits).Elems[0], true
}

// rangeHasTombstones reports whether [start, +inf) may hold a deleted entry,
// as Redis 7.0's streamRangeHasTombstones with no end: never when the
// greatest deleted ID is below the first entry.
func (s *stream) rangeHasTombstones(start ID) bool {
	if s.length == 0 || s.maxDeleted.IsZero() || s.maxDeleted.Less(s.firstID) {
		return false
	}
	return !s.maxDeleted.Less(start)
}

// estimateDistance is Redis 7.0's streamEstimateDistanceFromFirstEverEntry:
// the entries_read counter of id, or invalidEntriesRead. (7.2 added a check
// that id is not below max_deleted_entry_id; 7.0.15 has none.)
func (s *stream) estimateDistance(id ID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && !s.lastID.Less(id) {
		return int64(s.entriesAdded)
	}
	switch id.Compare(s.lastID) {
	case 0:
		return int64(s.entriesAdded)
	case 1:
		return invalidEntriesRead
	}
	if s.maxDeleted.IsZero() || s.maxDeleted.Less(s.firstID) {
		switch id.Compare(s.firstID) {
		case -1:
			return int64(s.entriesAdded - s.length)
		case 0:
			return int64(s.entriesAdded - s.length + 1)
		}
	}
	return invalidEntriesRead
}

// lagReply is Redis 7.0's streamReplyWithCGLag: the group's lag, or null.
// (7.2 added shortcuts for an empty stream and a group behind the first
// entry; 7.0.15 has none.)
func (s *stream) lagReply(g *group) Reply {
	switch {
	case s.entriesAdded == 0:
		return Int(0)
	case g.entriesRead != invalidEntriesRead && !s.rangeHasTombstones(g.lastID):
		return Int(int64(s.entriesAdded) - g.entriesRead)
	}
	if read := s.estimateDistance(g.lastID); read != invalidEntriesRead {
		return Int(int64(s.entriesAdded) - read)
	}
	return Null()
}

// entriesReadReply is entries_read as an integer, or null when invalid.
func (g *group) entriesReadReply() Reply {
	if g.entriesRead == invalidEntriesRead {
		return Null()
	}
	return Int(g.entriesRead)
}

// lookupGroup returns the stream at key and its group name; either is nil
// when missing (g is nil whenever s is).
func (m *Machine) lookupGroup(key, name []byte) (*stream, *group) {
	s := m.keys[string(key)]
	if s == nil {
		return nil, nil
	}
	return s, s.group(name)
}
