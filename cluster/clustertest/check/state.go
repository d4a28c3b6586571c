package check

import (
	"encoding/binary"
	"hash/maphash"
)

// slot is one entry of the model's log. An entry appended by a write of
// unknown outcome has no known ID until a read shows it; until then hi is
// the largest ID it may have (maxID if nothing bounds it). An anonymous
// entry is one that no read in the history shows: it has no payload, so
// no read can match it.
type slot struct {
	payload string
	anon    bool
	known   bool
	id      ID // when known
	hi      ID // when not known: inclusive upper bound
}

func (s slot) String() string {
	switch {
	case s.anon:
		return "? unseen"
	case s.known:
		return s.id.String() + " " + shortPayload(s.payload)
	case s.hi != maxID:
		return "?<=" + s.hi.String() + " " + shortPayload(s.payload)
	}
	return "? " + shortPayload(s.payload)
}

// node is one entry in a persistent list of slots, newest last. Nodes are
// never modified once built, so states share their common prefix; a nil
// *node is the empty stream.
type node struct {
	prev *node
	jump *node // an earlier node, for searches in O(log n) steps
	slot slot
	n    int    // entries up to and including this one
	open int    // entries up to here whose ID is not known
	last ID     // the last known ID up to here, 0-0 if none
	min  ID     // smallest ID this entry can have given those before it
	hash uint64 // of the whole list up to here, for porcupine's cache
}

var hashSeed = maphash.MakeSeed()

// push appends s to prev. It fails if no assignment of the unknown IDs
// keeps the IDs strictly increasing: IDs only grow, so giving each unknown
// entry the smallest ID after its predecessor's smallest possible ID
// leaves the most room for the rest, and checking that greedy choice
// against each known ID and upper bound is exact.
func push(prev *node, s slot) (*node, bool) {
	lo, n, open, last, h := ID{}, 1, 0, ID{}, uint64(0)
	if prev != nil {
		lo, n, open, last, h = prev.min, prev.n+1, prev.open, prev.last, prev.hash
	}
	least := s.id
	if s.known {
		if !lo.Less(s.id) {
			return nil, false
		}
	} else {
		var ok bool
		if least, ok = lo.next(); !ok || s.hi.Less(least) {
			return nil, false
		}
	}
	if s.known {
		last = s.id
	} else {
		open++
	}
	return &node{prev: prev, jump: jumpFrom(prev), slot: s, n: n, open: open, last: last, min: least, hash: hashSlot(h, s)}, true
}

// jumpFrom returns the jump pointer of a node pushed onto prev. This is
// Myers's applicative random-access stack: jumps skip 1, 3, 7, ... nodes
// in a pattern that reaches any earlier node in O(log n) jumps and steps.
func jumpFrom(prev *node) *node {
	if prev == nil {
		return nil
	}
	j := prev.jump
	var jj *node
	if j != nil {
		jj = j.jump
	}
	if prev.n-j.len() == j.len()-jj.len() {
		return jj
	}
	return prev
}

// at returns the node that ends the list's first n entries (nil for 0).
func (x *node) at(n int) *node {
	for x.len() > n {
		if x.jump.len() >= n {
			x = x.jump
		} else {
			x = x.prev
		}
	}
	return x
}

// lastAtMost returns the node of the last entry whose ID is at most id,
// nil if none. Every ID in the list must be known.
func (x *node) lastAtMost(id ID) *node {
	for x != nil && id.Less(x.slot.id) {
		if x.jump != nil && id.Less(x.jump.slot.id) {
			x = x.jump
		} else {
			x = x.prev
		}
	}
	return x
}

// matches reports whether the list's last len(es) entries are es, every
// one with a known ID.
func (x *node) matches(es []Entry) bool {
	for i := len(es) - 1; i >= 0; i, x = i-1, x.prev {
		if x == nil || !x.slot.known || x.slot.id != es[i].ID || x.slot.payload != es[i].Payload {
			return false
		}
	}
	return true
}

func hashSlot(prev uint64, s slot) uint64 {
	var hh maphash.Hash
	hh.SetSeed(hashSeed)
	var b [8*5 + 1]byte
	buf := binary.LittleEndian.AppendUint64(b[:0], prev)
	if s.known {
		buf = binary.LittleEndian.AppendUint64(buf, s.id.Ms)
		buf = binary.LittleEndian.AppendUint64(buf, s.id.Seq)
	} else {
		buf = binary.LittleEndian.AppendUint64(buf, s.hi.Ms^0x5bd1e995)
		buf = binary.LittleEndian.AppendUint64(buf, s.hi.Seq)
	}
	if s.anon {
		buf = append(buf, 1)
	}
	_, _ = hh.Write(buf)
	_, _ = hh.WriteString(s.payload)
	return hh.Sum64()
}

// lastKnown returns the last known ID in the list, 0-0 if none.
func (x *node) lastKnown() ID {
	if x == nil {
		return ID{}
	}
	return x.last
}

func (x *node) len() int {
	if x == nil {
		return 0
	}
	return x.n
}

// unpack returns the list's nodes and slots, oldest first. The slots are a
// copy the caller may change and pass to rebuild.
func (x *node) unpack() ([]*node, []slot) {
	nodes := make([]*node, x.len())
	slots := make([]slot, x.len())
	for i := len(nodes) - 1; x != nil; i, x = i-1, x.prev {
		nodes[i], slots[i] = x, x.slot
	}
	return nodes, slots
}

// rebuild returns the list whose slots are slots, reusing the nodes of
// the prefix that did not change; it fails as push does.
func rebuild(nodes []*node, slots []slot) (*node, bool) {
	i := 0
	for i < len(nodes) && nodes[i].slot == slots[i] {
		i++
	}
	if i == len(slots) {
		if i == 0 {
			return nil, true
		}
		return nodes[i-1], true
	}
	var head *node
	if i > 0 {
		head = nodes[i-1]
	}
	for _, s := range slots[i:] {
		var ok bool
		if head, ok = push(head, s); !ok {
			return nil, false
		}
	}
	return head, true
}

func equalStates(a, b *node) bool {
	for ; a != b; a, b = a.prev, b.prev {
		if a == nil || b == nil || a.n != b.n || a.hash != b.hash || a.slot != b.slot {
			return false
		}
	}
	return true
}

func describeState(x *node) string {
	_, slots := x.unpack()
	items := make([]string, len(slots))
	for i, s := range slots {
		items[i] = s.String()
	}
	return describeList(items)
}

// entriesHash is the hash a list of known entries es would have, so that a
// read can be compared with a state in one step.
func entriesHash(es []Entry) uint64 {
	var h uint64
	for _, e := range es {
		h = hashSlot(h, slot{payload: e.Payload, known: true, id: e.ID})
	}
	return h
}
