package fsm

import "github.com/tidwall/btree"

// stream is one stream key: its blocks and the metadata Redis keeps.
type stream struct {
	blocks       *btree.BTreeG[block]
	length       uint64
	lastID       ID // last generated ID; never decreases except by XSETID
	firstID      ID // recorded first entry ID (0-0 when empty)
	maxDeleted   ID // greatest ID removed by XDEL
	entriesAdded uint64
	version      uint64 // Machine.counter at the last write (KeyVersion)
	tailHint     btree.PathHint
	// snapEpoch counts the snapshots taken of this stream (see block.epoch).
	snapEpoch uint32
	// groups holds the consumer groups ordered by name (nil until the
	// first XGROUP CREATE).
	groups *btree.BTreeG[*group]
	idmp   *idmpState // IDMP maps and XCFGSET settings; nil until first used
}

func newBlockTree() *btree.BTreeG[block] {
	return btree.NewBTreeGOptions(blockLess, btree.Options{NoLocks: true, Degree: 32})
}

func newStream() *stream { return &stream{blocks: newBlockTree()} }

// append adds an entry with the given ID, which the caller checked is greater
// than lastID.
func (s *stream) append(id ID, fv [][]byte) {
	tail, ok := s.blocks.Max()
	if ok && s.fits(&tail, fv) && tail.last.Less(id) {
		var mstack [8][]byte
		tail.appendEntry(id, fv, tail.masterFields(mstack[:0]))
		s.blocks.SetHint(tail, &s.tailHint)
	} else {
		if ok {
			tail.shrink(s.snapEpoch)
			s.blocks.Set(tail)
		}
		nb := newBlock(id, fv, s.snapEpoch)
		var mstack [8][]byte
		nb.appendEntry(id, fv, nb.masterFields(mstack[:0]))
		s.blocks.SetHint(nb, &s.tailHint)
	}
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
}

// fits reports whether fv can go into tail, by Redis's rules: under 100
// entries (deleted ones count) and under 4096 bytes.
func (s *stream) fits(tail *block, fv [][]byte) bool {
	if tail.count >= maxBlockEntries {
		return false
	}
	return len(tail.data)+encodedSize(fv) < maxBlockBytes
}

// lastLive returns the ID of the last entry that is not deleted.
func (s *stream) lastLive() (ID, bool) {
	if s.length == 0 {
		return ID{}, false
	}
	var out ID
	found := false
	s.blocks.Reverse(func(b block) bool {
		if b.live == 0 {
			return true
		}
		it := blockIter{}
		it.reset(&b)
		var e entryView
		for it.next(&e) {
			if !e.deleted() {
				out, found = e.id, true
			}
		}
		return !found
	})
	return out, found
}

// firstLive returns the ID of the first entry that is not deleted.
func (s *stream) firstLive() (ID, bool) {
	var out ID
	found := false
	s.blocks.Scan(func(b block) bool {
		it := blockIter{}
		it.reset(&b)
		var e entryView
		for it.next(&e) {
			if !e.deleted() {
				out, found = e.id, true
				return false
			}
		}
		return true
	})
	return out, found
}

// updateFirstID refreshes the recorded first entry ID after a removal.
func (s *stream) updateFirstID() {
	if id, ok := s.firstLive(); ok && s.length > 0 {
		s.firstID = id
	} else {
		s.firstID = ID{}
	}
}
