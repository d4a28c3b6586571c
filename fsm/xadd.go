package fsm

import "math"

// checkXAdd returns XADD's stateless errors.
func checkXAdd(argv [][]byte) *Reply {
	_, r := parseXAdd(argv)
	return r
}

// parseXAdd parses XADD and makes every check that needs no state, in
// Redis's order: options, field/value arity, the 0-0 ID.
func parseXAdd(argv [][]byte) (addArgs, *Reply) {
	a, r := parseAddTrim(argv, true)
	if r != nil {
		return a, r
	}
	nfv := len(argv) - a.idPos - 1
	if nfv < 2 || nfv%2 == 1 {
		e := errArity("xadd")
		return a, &e
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		e := Err(errXAddZero)
		return a, &e
	}
	return a, nil
}

// xadd: XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] <*|id> field value ...
func (m *Machine) xadd(x *execCtx, argv [][]byte) Reply {
	a, r := parseXAdd(argv)
	if r != nil {
		return *r
	}
	key := string(argv[1])
	s, ok := m.keys[key]
	if !ok && a.noMkStream {
		return Null()
	}
	if ok && s.lastID == maxID {
		return Err(errXAddExhausted)
	}
	var last ID
	if ok {
		last = s.lastID
	}
	id, errMsg := nextID(last, &a, x.stamp)
	if errMsg != "" {
		return Err(errMsg)
	}
	if !ok {
		s = m.create(key)
	}
	s.append(id, argv[a.idPos+1:])
	s.trim(&a.trimArgs)
	m.touch(s)
	x.signal(key)
	return Bulk(id.AppendText(make([]byte, 0, 24)))
}

// nextID resolves XADD's ID against the stream's last ID, as Redis's
// streamAppendItem; stamp (the leader's clock) drives "*".
func nextID(last ID, a *addArgs, stamp int64) (ID, string) {
	var id ID
	switch {
	case !a.idGiven:
		now := uint64(0)
		if stamp > 0 {
			now = uint64(stamp)
		}
		if now > last.Ms {
			id = ID{now, 0}
		} else {
			id, _ = last.incr()
		}
	case !a.seqGiven:
		if last.Ms == a.id.Ms {
			if last.Seq == math.MaxUint64 {
				return ID{}, errXAddSmaller
			}
			id = ID{last.Ms, last.Seq + 1}
		} else {
			id = a.id
		}
	default:
		id = a.id
	}
	if !last.Less(id) {
		return ID{}, errXAddSmaller
	}
	return id, ""
}

// checkXTrim returns XTRIM's stateless errors.
func checkXTrim(argv [][]byte) *Reply {
	_, r := parseAddTrim(argv, false)
	return r
}

// xtrim: XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
func (m *Machine) xtrim(x *execCtx, argv [][]byte) Reply {
	a, r := parseAddTrim(argv, false)
	if r != nil {
		return *r
	}
	s, ok := m.keys[string(argv[1])]
	if !ok {
		return Int(0)
	}
	n := s.trim(&a.trimArgs)
	if n > 0 {
		m.touch(s)
	}
	return Int(n)
}
