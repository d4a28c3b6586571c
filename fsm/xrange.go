package fsm

// rangeArgs are XRANGE/XREVRANGE's parsed arguments.
type rangeArgs struct {
	start, end ID
	count      int64 // -1: no limit
	rev        bool
}

func checkXRange(argv [][]byte) *Reply {
	_, r := parseXRange(argv)
	return r
}

// parseXRange parses XRANGE key start end [COUNT n] (XREVRANGE: end start).
func parseXRange(argv [][]byte) (rangeArgs, *Reply) {
	a := rangeArgs{count: -1, rev: eqFold(argv[0], "xrevrange")}
	fail := func(msg string) (rangeArgs, *Reply) { r := Err(msg); return a, &r }
	startArg, endArg := argv[2], argv[3]
	if a.rev {
		startArg, endArg = endArg, startArg
	}
	start, end, r := parseInterval(startArg, endArg)
	if r != nil {
		return a, r
	}
	a.start, a.end = start, end
	for j := 4; j < len(argv); j++ {
		if eqFold(argv[j], "count") && j+1 < len(argv) {
			n, e := parseInt(argv[j+1])
			if e != nil {
				return a, e
			}
			a.count = max(n, 0)
			j++
		} else {
			return fail(errSyntax)
		}
	}
	return a, nil
}

// parseIntervalID parses a range bound: "(" marks it exclusive.
func parseIntervalID(b []byte, missingSeq uint64) (id ID, exclusive bool, ok bool) {
	if len(b) > 1 && b[0] == '(' {
		id, _, ok = parseID(b[1:], parseIDOpts{strict: true, missingSeq: missingSeq})
		return id, true, ok
	}
	id, _, ok = parseID(b, parseIDOpts{missingSeq: missingSeq})
	return id, false, ok
}

// xrange: XRANGE key start end [COUNT n], XREVRANGE key end start [COUNT n].
func (m *Machine) xrange(_ *execCtx, argv [][]byte) Reply {
	a, r := parseXRange(argv)
	if r != nil {
		return *r
	}
	s, ok := m.keys[string(argv[1])]
	if !ok {
		return Array()
	}
	if a.count == 0 {
		return NullArray()
	}
	return s.rangeReply(a.start, a.end, a.count, a.rev)
}

// xlen: XLEN key.
func (m *Machine) xlen(_ *execCtx, argv [][]byte) Reply {
	if s, ok := m.keys[string(argv[1])]; ok {
		return Int(int64(s.length))
	}
	return Int(0)
}

// hit is one entry selected for a reply: its block's bytes and header.
type hit struct {
	data []byte
	e    entryView
}

// rangeReply returns the live entries in [start, end], at most count of them
// (count < 0: all), ascending or descending.
func (s *stream) rangeReply(start, end ID, count int64, rev bool) Reply {
	if end.Less(start) {
		return Array()
	}
	var hits []hit
	if count > 0 && count < 1024 {
		hits = make([]hit, 0, count)
	}
	if rev {
		hits = s.collectRev(start, end, count, hits)
	} else {
		hits = s.collect(start, end, count, hits)
	}
	return entriesReply(hits)
}

// collect gathers the entries of [start, end] in ascending order.
func (s *stream) collect(start, end ID, count int64, hits []hit) []hit {
	pivot := block{first: start}
	s.blocks.Descend(pivot, func(b block) bool { pivot.first = b.first; return false })
	s.blocks.Ascend(pivot, func(b block) bool {
		if end.Less(b.first) {
			return false
		}
		if b.live == 0 || b.last.Less(start) {
			return true
		}
		var it blockIter
		it.reset(&b)
		var e entryView
		for it.next(&e) {
			if e.deleted() || e.id.Less(start) {
				continue
			}
			if end.Less(e.id) {
				return false
			}
			hits = append(hits, hit{b.data, e})
			if count > 0 && int64(len(hits)) >= count {
				return false
			}
		}
		return true
	})
	return hits
}

// collectRev gathers the entries of [start, end] in descending order.
func (s *stream) collectRev(start, end ID, count int64, hits []hit) []hit {
	var views [maxBlockEntries]entryView
	s.blocks.Descend(block{first: end}, func(b block) bool {
		if b.live == 0 {
			return true
		}
		var it blockIter
		it.reset(&b)
		n := 0
		for n < len(views) && it.next(&views[n]) {
			n++
		}
		for i := n - 1; i >= 0; i-- {
			e := &views[i]
			if e.deleted() || end.Less(e.id) {
				continue
			}
			if e.id.Less(start) {
				return false
			}
			hits = append(hits, hit{b.data, *e})
			if count > 0 && int64(len(hits)) >= count {
				return false
			}
		}
		return start.Less(b.first)
	})
	return hits
}

// entriesReply builds [[id, [f, v, ...]], ...] with few allocations: the
// field and value bulks alias the blocks' bytes, which are never modified.
func entriesReply(hits []hit) Reply {
	if len(hits) == 0 {
		return Array()
	}
	nfv := 0
	for i := range hits {
		nfv += 2 * hits[i].e.nfields
	}
	slab := make([]Reply, 3*len(hits)+nfv)
	outer := slab[:len(hits):len(hits)]
	pairs := slab[len(hits) : 3*len(hits) : 3*len(hits)]
	fvs := slab[3*len(hits) : 3*len(hits) : len(slab)]
	ids := make([]byte, 0, len(hits)*(len(hits[0].e.id.AppendText(nil))+2))
	var mstack [8][]byte
	for i := range hits {
		h := &hits[i]
		at := len(ids)
		ids = h.e.id.AppendText(ids)
		pairs[2*i] = Bulk(ids[at:len(ids):len(ids)])
		from := len(fvs)
		fvs = appendFields(h.data, &h.e, mstack[:0], fvs)
		pairs[2*i+1] = Reply{Kind: KindArray, Elems: fvs[from:len(fvs):len(fvs)]}
		outer[i] = Reply{Kind: KindArray, Elems: pairs[2*i : 2*i+2 : 2*i+2]}
	}
	return Reply{Kind: KindArray, Elems: outer}
}

// appendFields appends e's field/value bulks, reading master fields from data.
func appendFields(data []byte, e *entryView, mbuf [][]byte, dst []Reply) []Reply {
	b := block{data: data}
	if e.flags&flagSameField == 0 {
		it := blockIter{b: &b}
		return it.fields(e, dst)
	}
	it := blockIter{b: &b, master: b.masterFields(mbuf)}
	return it.fields(e, dst)
}
