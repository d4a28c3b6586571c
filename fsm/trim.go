package fsm

// Trimming strategies.
const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

// trimArgs are the MAXLEN/MINID options of XADD and XTRIM.
type trimArgs struct {
	strategy   int
	approx     bool
	maxLen     int64
	minID      ID
	limit      int64
	limitGiven bool
	refs       int // refKeep (default), refDel or refAcked
	refsGiven  bool
}

// addArgs are XADD's parsed options.
type addArgs struct {
	trimArgs
	noMkStream bool
	idGiven    bool // false for "*"
	seqGiven   bool // false for "ms-*"
	id         ID
	idPos      int // index of the ID in argv
}

// parseAddTrim parses the options of XADD (xadd) or XTRIM from argv[2:], as
// Redis's streamParseAddOrTrimArgsOrReply: options in any order; for XADD the
// first argument that is not an option is the ID.
func parseAddTrim(argv [][]byte, xadd bool) (addArgs, *Reply) {
	var a addArgs
	fail := func(msg string) (addArgs, *Reply) { r := Err(msg); return a, &r }
	i := 2
	for ; i < len(argv); i++ {
		more := len(argv) - 1 - i
		opt := argv[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			a.idPos = i
			return a.finish(xadd)
		case more >= 1 && (eqFold(opt, "maxlen") || eqFold(opt, "minid")):
			if a.strategy != trimNone {
				return fail(errMaxlenMinid)
			}
			isMax := eqFold(opt, "maxlen")
			a.approx = false
			if next := argv[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.approx = next[0] == '~'
				i++
			}
			i++
			if isMax {
				v, e := parseInt(argv[i])
				if e != nil {
					return a, e
				}
				if v < 0 {
					return fail(errMaxlenNeg)
				}
				a.maxLen, a.strategy = v, trimMaxLen
			} else {
				id, ok := parseStrictID(argv[i])
				if !ok {
					return fail(errInvalidID)
				}
				a.minID, a.strategy = id, trimMinID
			}
		case more >= 1 && eqFold(opt, "limit"):
			v, e := parseInt(argv[i+1])
			if e != nil {
				return a, e
			}
			if v < 0 {
				return fail(errLimitNeg)
			}
			a.limit, a.limitGiven = v, true
			i++
		case !a.refsGiven && parseRefs(opt, &a.refs):
			a.refsGiven = true
		case xadd && eqFold(opt, "nomkstream"):
			a.noMkStream = true
		case xadd:
			id, seqGiven, ok := parseID(opt, parseIDOpts{strict: true, autoSeq: true})
			if !ok {
				return fail(errInvalidID)
			}
			a.id, a.seqGiven, a.idGiven, a.idPos = id, seqGiven, true, i
			return a.finish(xadd)
		default:
			return fail(errSyntax)
		}
	}
	a.idPos = i
	return a.finish(xadd)
}

// finish applies the checks Redis makes after the option loop.
func (a addArgs) finish(xadd bool) (addArgs, *Reply) {
	fail := func(msg string) (addArgs, *Reply) { r := Err(msg); return a, &r }
	if a.limit != 0 && a.strategy == trimNone {
		return fail(errLimitNoStrat)
	}
	if !xadd && a.strategy == trimNone {
		return fail(errXTrimNoStrat)
	}
	if a.limitGiven {
		if !a.approx {
			return fail(errLimitNoApprox)
		}
	} else if a.approx {
		a.limit = 100 * maxBlockEntries
	} else {
		a.limit = 0
	}
	return a, nil
}

// trim removes entries per t, following Redis's streamTrim: whole blocks
// while they can go entirely; then, for an exact trim, entries inside the
// first remaining block; an approximate trim stops at the first block that
// cannot go whole. It returns the number of entries removed.
func (s *stream) trim(t *trimArgs) int64 {
	if t.strategy == trimNone {
		return 0
	}
	var deleted int64
	var first ID // the first live entry, when trimInside found it
	firstKnown := false
	for {
		b, ok := s.blocks.Min()
		if !ok {
			break
		}
		if t.strategy == trimMaxLen && s.length <= uint64(t.maxLen) {
			break
		}
		entries := int64(b.live)
		if t.limit != 0 && deleted+entries > t.limit {
			break
		}
		var removeAll bool
		if t.strategy == trimMaxLen {
			removeAll = s.length-uint64(entries) >= uint64(t.maxLen)
		} else {
			removeAll = b.last.Less(t.minID)
		}
		if removeAll && t.refs == refAcked && s.blockReferenced(&b) {
			removeAll = false
		}
		if removeAll {
			if t.refs == refDel {
				s.dropBlockRefs(&b)
			}
			s.blocks.Delete(b)
			s.length -= uint64(entries)
			deleted += entries
			continue
		}
		if t.approx {
			break
		}
		var n int64
		n, first, firstKnown = s.trimInside(&b, t)
		deleted += n
		break
	}
	switch {
	case s.length == 0:
		s.firstID = ID{}
	case firstKnown:
		s.firstID = first
	case deleted > 0:
		s.updateFirstID()
	}
	return deleted
}

// trimInside marks deleted the entries of b that an exact trim removes. It
// also returns the first live entry left in b, if any.
func (s *stream) trimInside(b *block, t *trimArgs) (int64, ID, bool) {
	var offs [maxBlockEntries]int
	n := 0
	it := blockIter{}
	it.reset(b)
	var e entryView
	length := s.length
	for it.next(&e) {
		var stop bool
		if t.strategy == trimMaxLen {
			stop = length <= uint64(t.maxLen)
		} else {
			stop = !e.id.Less(t.minID)
		}
		if !stop && t.refs == refAcked && !e.deleted() && s.referenced(e.id) {
			stop = true // ACKED stops at the first entry still needed
		}
		if stop {
			for ok := true; ok; ok = it.next(&e) {
				if !e.deleted() {
					return s.markTrimmed(b, offs[:n], length), e.id, true
				}
			}
			return s.markTrimmed(b, offs[:n], length), ID{}, false
		}
		if !e.deleted() {
			offs[n] = e.off
			n++
			length--
			if t.refs == refDel {
				s.dropRefs(e.id)
			}
		}
	}
	return s.markTrimmed(b, offs[:n], length), ID{}, false
}

// markTrimmed stores b with the entries at offs deleted and the new length.
func (s *stream) markTrimmed(b *block, offs []int, length uint64) int64 {
	if len(offs) == 0 {
		return 0
	}
	s.blocks.Set(b.withDeleted(offs, s.snapEpoch))
	s.length = length
	return int64(len(offs))
}

// eqFold reports whether b equals the lower-case ASCII word s, ignoring case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
