package fsm

import (
	"fmt"

	"github.com/tidwall/btree"
)

// Consumer groups in the snapshot, after each stream's blocks:
//
//	group count, per group in name order: name, last ID, entries_read
//	(varint, -1 invalid), consumer count, per consumer in name order: name,
//	seen (varint), active (varint); PEL count, per entry in ID order: ID,
//	owner (index into the group's consumers), delivery time (varint),
//	delivery count; since version 3 the dead-letter policy: max deliveries
//	(0: none) and key.

// groups writes the stream's consumer groups.
func (sw *snapWriter) groups(st *stream) error {
	if st.groups == nil {
		sw.uv(0)
		return nil
	}
	sw.uv(uint64(st.groups.Len()))
	var err error
	st.groups.Scan(func(g *group) bool {
		sw.bytes([]byte(g.name))
		sw.id(g.lastID)
		sw.v(g.entriesRead)
		sw.uv(uint64(g.consumers.Len()))
		index := make(map[string]uint64, g.consumers.Len())
		g.consumers.Scan(func(c consumer) bool {
			index[c.name] = uint64(len(index))
			sw.bytes([]byte(c.name))
			sw.v(c.seen)
			sw.v(c.active)
			return true
		})
		sw.uv(uint64(g.pel.Len()))
		g.pel.Scan(func(n nack) bool {
			sw.id(n.id)
			sw.uv(index[n.owner])
			sw.v(n.time)
			sw.uv(n.count)
			if len(sw.buf) >= 32<<10 {
				err = sw.flushBuf()
			}
			return err == nil
		})
		sw.uv(g.dlqMax)
		sw.bytes([]byte(g.dlqKey))
		return err == nil
	})
	return err
}

// groups reads and validates a stream's consumer groups: names ascending,
// PEL IDs ascending, every owner a consumer of the group. The consumer PEL
// index and pending counts are rebuilt from the group PEL.
func (sr *snapReader) groups(key string) *btree.BTreeG[*group] {
	n := sr.uv()
	if n == 0 || sr.err != nil {
		return nil
	}
	bad := func(what string) {
		if sr.err == nil {
			sr.err = fmt.Errorf("%w: %s in %q", ErrBadSnapshot, what, key)
		}
	}
	t := newGroupTree()
	prev := ""
	for i := uint64(0); i < n && sr.err == nil; i++ {
		name := string(sr.bytes(1 << 30))
		if i > 0 && name <= prev {
			bad("group order")
		}
		prev = name
		g := newGroup(name, sr.id(), sr.v())
		if g.entriesRead < invalidEntriesRead {
			bad("entries_read")
		}
		names := sr.consumers(g, bad)
		np := sr.uv()
		var last ID
		for j := uint64(0); j < np && sr.err == nil; j++ {
			nk := nack{id: sr.id()}
			owner := sr.uv()
			nk.time, nk.count = sr.v(), sr.uv()
			if owner >= uint64(len(names)) || (j > 0 && !last.Less(nk.id)) {
				bad("pending entry")
				break
			}
			last = nk.id
			nk.owner = names[owner]
			g.setOwner(nk)
		}
		if sr.version >= 3 {
			g.dlqMax, g.dlqKey = sr.uv(), string(sr.bytes(1<<30))
			if (g.dlqMax == 0) != (g.dlqKey == "") {
				bad("dead-letter policy")
			}
		}
		t.Load(g)
	}
	return t
}

// consumers reads a group's consumers and returns their names in order.
func (sr *snapReader) consumers(g *group, bad func(string)) []string {
	n := sr.uv()
	var names []string
	for j := uint64(0); j < n && sr.err == nil; j++ {
		c := consumer{name: string(sr.bytes(1 << 30))}
		c.seen, c.active = sr.v(), sr.v()
		if j > 0 && c.name <= names[len(names)-1] {
			bad("consumer order")
		}
		names = append(names, c.name)
		g.consumers.Load(c)
	}
	return names
}
