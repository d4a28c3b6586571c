package fsm

import (
	"math"
	"slices"
)

// checkXAdd returns XADD's stateless errors.
func checkXAdd(argv [][]byte) *Reply {
	_, r := parseXAdd(argv)
	return r
}

// xaddArgs are XADD's options: those it shares with XTRIM and IDMP.
type xaddArgs struct {
	addArgs
	idmp idmpArgs
}

// parseXAdd parses XADD and makes every check that needs no state, in
// Redis's order: options (IDMP included), field/value arity, the 0-0 ID.
func parseXAdd(argv [][]byte) (xaddArgs, *Reply) {
	var a xaddArgs
	fail := func(msg string) (xaddArgs, *Reply) { r := Err(msg); return a, &r }
	sc := scanIDMP(argv)
	if sc.err != "" {
		// An option before the bad IDMP fails first: parse the prefix.
		pre := append(slices.Clip(sc.strip(argv[:sc.errAt])), []byte("*"))
		if _, r := parseAddTrim(pre, true); r != nil && !afterOptionLoop(r) {
			return a, r
		}
		return fail(sc.err)
	}
	add, r := parseAddTrim(sc.strip(argv), true)
	if r != nil && !afterOptionLoop(r) {
		return a, r
	}
	if sc.idmp.pid != nil && sc.idPos < len(argv) && !isStar(argv[sc.idPos]) {
		return fail(errIDMPAutoOnly)
	}
	if r != nil {
		return a, r
	}
	a.addArgs, a.idmp = add, sc.idmp
	a.idPos += sc.removed
	nfv := len(argv) - a.idPos - 1
	if nfv < 2 || nfv%2 == 1 {
		e := errArity("xadd")
		return a, &e
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		return fail(errXAddZero)
	}
	return a, nil
}

// afterOptionLoop reports the errors Redis gives after its option loop, so
// after any error of an option or of the ID.
func afterOptionLoop(r *Reply) bool {
	return r.Str == errLimitNoStrat || r.Str == errLimitNoApprox || r.Str == errXTrimNoStrat
}

func isStar(b []byte) bool { return len(b) == 1 && b[0] == '*' }

// xadd: XADD key [NOMKSTREAM] [IDMPAUTO pid | IDMP pid iid]
// [MAXLEN|MINID [=|~] threshold [LIMIT count]] <*|id> field value ...
func (m *Machine) xadd(x *execCtx, argv [][]byte) Reply {
	a, r := parseXAdd(argv)
	if r != nil {
		return *r
	}
	key := string(argv[1])
	fv := argv[a.idPos+1:]
	s, ok := m.keys[key]
	if !ok && a.noMkStream {
		return Null()
	}
	if ok && s.idmp != nil {
		s.idmp.expire(x.stamp)
	}
	var iid string
	var prod *idmpProducer
	if a.idmp.pid != nil {
		if iid, r = a.idmp.iidFor(fv); r != nil {
			return *r
		}
		if ok {
			if s.idmp == nil {
				s.idmp = newIDMPState()
			}
			prod = s.idmp.producer(a.idmp.pid)
			if id, dup := s.idmp.duplicate(prod, iid); dup {
				return Bulk(id.AppendText(make([]byte, 0, 24)))
			}
		}
	}
	if ok && s.lastID == maxID {
		return Err(errXAddExhausted)
	}
	var last ID
	if ok {
		last = s.lastID
	}
	id, errMsg := nextID(last, &a.addArgs, x.stamp)
	if errMsg != "" {
		return Err(errMsg)
	}
	if !ok {
		s = m.create(key)
	}
	s.append(id, fv)
	if a.idmp.pid != nil {
		if prod == nil { // the stream was just created
			s.idmp = newIDMPState()
			prod = s.idmp.producer(a.idmp.pid)
		}
		s.idmp.insert(prod, iid, id)
	}
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
				// Redis's streamIncrID overflows (ERANGE), which xaddCommand
				// reports as the generic size error, not as "smaller".
				return ID{}, errXAddTooLarge
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

// idmpArgs are XADD's IDMP/IDMPAUTO option.
type idmpArgs struct {
	pid  []byte // nil: no IDMP option
	iid  []byte // IDMP's iid; nil for IDMPAUTO
	auto bool
}

// iidFor returns the iid: IDMP's, or IDMPAUTO's hash of fv.
func (o *idmpArgs) iidFor(fv [][]byte) (string, *Reply) {
	if !o.auto {
		return string(o.iid), nil
	}
	iid, ok := autoIID(fv)
	if !ok {
		r := Err(errIDMPHash)
		return "", &r
	}
	return iid, nil
}

// idmpScan is scanIDMP's result.
type idmpScan struct {
	idmp    idmpArgs
	start   int // position of the IDMP option in argv
	removed int // its length in arguments (0: none), all before the ID
	idPos   int // position of the ID in argv (len(argv) if none)
	errAt   int // position of the IDMP error, if err is set
	err     string
}

// scanIDMP finds XADD's IDMP/IDMPAUTO option, walking the options as Redis's
// streamParseAddOrTrimArgsOrReply does: it knows each option's arity, and
// leaves checking the other options' values to parseAddTrim.
func scanIDMP(argv [][]byte) idmpScan {
	sc := idmpScan{}
	refs := false // KEEPREF, DELREF or ACKED seen
	i := 2
	for ; i < len(argv); i++ {
		more := len(argv) - 1 - i
		opt := argv[i]
		switch {
		case isStar(opt):
			sc.idPos = i
			return sc
		case more >= 1 && (eqFold(opt, "maxlen") || eqFold(opt, "minid")):
			if next := argv[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				i++
			}
			i++
		case more >= 1 && eqFold(opt, "limit"):
			i++
		case !refs && (eqFold(opt, "keepref") || eqFold(opt, "delref") || eqFold(opt, "acked")):
			refs = true
		case eqFold(opt, "nomkstream"):
		case more >= 1 && eqFold(opt, "idmpauto"):
			if !sc.set(argv, i, true) {
				return sc
			}
			i++
		case more >= 2 && eqFold(opt, "idmp"):
			if !sc.set(argv, i, false) {
				return sc
			}
			i += 2
		default:
			sc.idPos = i
			return sc
		}
	}
	sc.idPos = i
	return sc
}

// set records the IDMP option at argv[i], or its error.
func (sc *idmpScan) set(argv [][]byte, i int, auto bool) bool {
	msg := ""
	switch {
	case sc.idmp.pid != nil:
		msg = errIDMPTwice
	case len(argv[i+1]) == 0 && auto:
		msg = errIDMPAutoNoPid
	case len(argv[i+1]) == 0:
		msg = errIDMPNoPid
	case !auto && len(argv[i+2]) == 0:
		msg = errIDMPNoIid
	}
	if msg != "" {
		sc.err, sc.errAt = msg, i
		return false
	}
	sc.idmp = idmpArgs{pid: argv[i+1], auto: auto}
	sc.start, sc.removed = i, 2
	if !auto {
		sc.idmp.iid = argv[i+2]
		sc.removed = 3
	}
	return true
}

// strip returns argv (a prefix of XADD's argv) without the IDMP option.
func (sc *idmpScan) strip(argv [][]byte) [][]byte {
	if sc.removed == 0 || sc.start >= len(argv) {
		return argv
	}
	out := make([][]byte, 0, len(argv)-sc.removed+1)
	out = append(out, argv[:sc.start]...)
	return append(out, argv[sc.start+sc.removed:]...)
}
