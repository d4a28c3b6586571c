package fsm

// xdel: XDEL key id [id ...]. A missing key answers 0 before the IDs are
// parsed, as in Redis, so invalid IDs are a state-dependent error here.
func (m *Machine) xdel(_ *execCtx, argv [][]byte) Reply {
	s, ok := m.keys[string(argv[1])]
	if !ok {
		return Int(0)
	}
	ids := make([]ID, len(argv)-2)
	for i, arg := range argv[2:] {
		id, ok := parseStrictID(arg)
		if !ok {
			return Err(errInvalidID)
		}
		ids[i] = id
	}
	deleted := int64(0)
	firstGone := false
	for _, id := range ids {
		if !s.deleteEntry(id) {
			continue
		}
		if id == s.firstID {
			firstGone = true
		}
		if s.maxDeleted.Less(id) {
			s.maxDeleted = id
		}
		deleted++
	}
	if deleted > 0 {
		if s.length == 0 {
			s.firstID = ID{}
		} else if firstGone {
			s.updateFirstID()
		}
		m.touch(s)
	}
	return Int(deleted)
}

// deleteEntry marks the live entry id deleted; a block left with no live
// entry is removed. It reports whether id was a live entry.
func (s *stream) deleteEntry(id ID) bool {
	var b block
	found := false
	s.blocks.Descend(block{first: id}, func(it block) bool {
		b, found = it, true
		return false
	})
	if !found || b.last.Less(id) || b.live == 0 {
		return false
	}
	var it blockIter
	it.reset(&b)
	var e entryView
	for it.next(&e) {
		if e.id != id {
			if id.Less(e.id) {
				return false
			}
			continue
		}
		if e.deleted() {
			return false
		}
		if b.live == 1 {
			s.blocks.Delete(b)
		} else {
			s.blocks.Set(b.withDeleted([]int{e.off}, s.snapEpoch))
		}
		s.length--
		return true
	}
	return false
}

// setIDArgs are XSETID's parsed arguments.
type setIDArgs struct {
	id           ID
	maxDeleted   ID
	entriesAdded int64 // -1: not given
}

func checkXSetID(argv [][]byte) *Reply {
	_, r := parseXSetID(argv)
	return r
}

// parseXSetID parses XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
func parseXSetID(argv [][]byte) (setIDArgs, *Reply) {
	a := setIDArgs{entriesAdded: -1}
	fail := func(msg string) (setIDArgs, *Reply) { r := Err(msg); return a, &r }
	id, ok := parseStrictID(argv[2])
	if !ok {
		return fail(errInvalidID)
	}
	a.id = id
	for i := 3; i < len(argv); i += 2 {
		more := len(argv) - 1 - i
		switch {
		case eqFold(argv[i], "entriesadded") && more > 0:
			v, e := parseInt(argv[i+1])
			if e != nil {
				return a, e
			}
			if v < 0 {
				return fail(errSetIDAddedNeg)
			}
			a.entriesAdded = v
		case eqFold(argv[i], "maxdeletedid") && more > 0:
			md, ok := parseStrictID(argv[i+1])
			if !ok {
				return fail(errInvalidID)
			}
			if a.id.Less(md) {
				return fail(errSetIDMaxDel)
			}
			a.maxDeleted = md
		default:
			return fail(errSyntax)
		}
	}
	return a, nil
}

// xsetid: XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
func (m *Machine) xsetid(_ *execCtx, argv [][]byte) Reply {
	a, r := parseXSetID(argv)
	if r != nil {
		return *r
	}
	s, ok := m.keys[string(argv[1])]
	if !ok {
		return Err(errNoSuchKey)
	}
	if s.length > 0 {
		last, _ := s.lastLive()
		if a.id.Less(last) {
			return Err(errSetIDSmaller)
		}
		if a.entriesAdded != -1 && s.length > uint64(a.entriesAdded) {
			return Err(errSetIDAdded)
		}
	}
	s.lastID = a.id
	if a.entriesAdded != -1 {
		s.entriesAdded = uint64(a.entriesAdded)
	}
	if !a.maxDeleted.IsZero() {
		s.maxDeleted = a.maxDeleted
	}
	m.touch(s)
	return OK()
}
