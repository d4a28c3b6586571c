package fsm

// Reference strategies of XADD/XTRIM trimming, XDELEX and XACKDEL (Redis
// 8.2's KEEPREF, DELREF and ACKED).
const (
	refKeep  = iota // remove entries, leave PEL references dangling
	refDel          // remove entries and their references in every group
	refAcked        // remove only entries no group still needs
)

// parseRefs sets *refs when opt is KEEPREF, DELREF or ACKED.
func parseRefs(opt []byte, refs *int) bool {
	switch {
	case eqFold(opt, "keepref"):
		*refs = refKeep
	case eqFold(opt, "delref"):
		*refs = refDel
	case eqFold(opt, "acked"):
		*refs = refAcked
	default:
		return false
	}
	return true
}

// referenced reports whether a group still needs id: some group has not
// delivered it yet (its last delivered ID is smaller) or holds it in its
// PEL. A stream without groups references nothing.
func (s *stream) referenced(id ID) bool {
	if s.groups == nil {
		return false
	}
	ref := false
	s.groups.Scan(func(g *group) bool {
		if g.lastID.Less(id) {
			ref = true
		} else if _, ok := g.pel.Get(nack{id: id}); ok {
			ref = true
		}
		return !ref
	})
	return ref
}

// blockReferenced reports whether a live entry of b is referenced.
func (s *stream) blockReferenced(b *block) bool {
	if s.groups == nil {
		return false
	}
	var it blockIter
	it.reset(b)
	var e entryView
	for it.next(&e) {
		if !e.deleted() && s.referenced(e.id) {
			return true
		}
	}
	return false
}

// dropRefs removes id from the PEL of every group.
func (s *stream) dropRefs(id ID) {
	if s.groups == nil {
		return
	}
	s.groups.Scan(func(g *group) bool { g.unpend(id); return true })
}

// dropBlockRefs removes the PEL references of b's live entries.
func (s *stream) dropBlockRefs(b *block) {
	if s.groups == nil {
		return
	}
	var it blockIter
	it.reset(b)
	var e entryView
	for it.next(&e) {
		if !e.deleted() {
			s.dropRefs(e.id)
		}
	}
}

// deleteWithRefs deletes id under strategy refs, as XDELEX does per ID:
// 1 deleted, -1 no such entry, 2 kept because still referenced (ACKED).
// DELREF removes the references even when the entry is already gone.
func (s *stream) deleteWithRefs(id ID, refs int) int64 {
	if refs == refAcked && s.referenced(id) {
		return 2
	}
	if refs == refDel {
		s.dropRefs(id)
	}
	if !s.deleteEntry(id) {
		return -1
	}
	if s.maxDeleted.Less(id) {
		s.maxDeleted = id
	}
	return 1
}
