package fsm

// Error texts of the IDS block (Redis 8.2's XDELEX and XACKDEL).
const (
	errNumIDs      = "ERR Number of IDs must be a positive integer"
	errNumIDsMatch = "ERR The `numids` parameter must match the number of arguments"
)

// delexArgs are the parsed options of XDELEX and XACKDEL.
type delexArgs struct {
	refs int
	ids  []ID
}

func checkXDelEx(argv [][]byte) *Reply {
	_, r := parseDelEx(argv, 2)
	return r
}

func checkXAckDel(argv [][]byte) *Reply {
	_, r := parseDelEx(argv, 3)
	return r
}

// parseDelEx parses [KEEPREF|DELREF|ACKED] IDS numids id... from argv[from:].
// The options may come in any order, each once; the IDS block must hold
// exactly numids IDs (fewer: the numids error; more: a syntax error, as the
// extra argument is not an option). Every ID is parsed here, so the command
// has no state-dependent syntax error. (Guessed from the upstream tests: the
// order of the checks and the acceptance of an option after the IDS block.)
func parseDelEx(argv [][]byte, from int) (delexArgs, *Reply) {
	var a delexArgs
	fail := func(msg string) (delexArgs, *Reply) { r := Err(msg); return a, &r }
	refsGiven, idsGiven := false, false
	for i := from; i < len(argv); i++ {
		opt := argv[i]
		switch {
		case !refsGiven && parseRefs(opt, &a.refs):
			refsGiven = true
		case !idsGiven && eqFold(opt, "ids") && i+1 < len(argv):
			n, ok := parseLL(argv[i+1])
			if !ok || n <= 0 {
				return fail(errNumIDs)
			}
			if n > int64(len(argv)-i-2) {
				return fail(errNumIDsMatch)
			}
			a.ids = make([]ID, n)
			for j := range a.ids {
				id, ok := parseStrictID(argv[i+2+j])
				if !ok {
					return fail(errInvalidID)
				}
				a.ids[j] = id
			}
			idsGiven = true
			i += 1 + int(n)
		default:
			return fail(errSyntax)
		}
	}
	if !idsGiven {
		return fail(errSyntax)
	}
	return a, nil
}

// allMinusOne is the reply for a missing key: -1 per ID.
func allMinusOne(n int) Reply {
	out := make([]Reply, n)
	for i := range out {
		out[i] = Int(-1)
	}
	return Array(out...)
}

// xdelex: XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id [id ...].
func (m *Machine) xdelex(_ *execCtx, argv [][]byte) Reply {
	a, r := parseDelEx(argv, 2)
	if r != nil {
		return *r
	}
	s := m.keys[string(argv[1])]
	if s == nil {
		return allMinusOne(len(a.ids))
	}
	return m.deleteIDs(s, nil, a)
}

// xackdel: XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id [id ...].
// Each ID is acknowledged in the group, then deleted under the strategy: 1
// deleted, -1 no such entry, 2 acknowledged but still referenced (ACKED).
// A missing key or group answers -1 per ID, as XACK answers 0 (a guess:
// the docs only name the missing key).
func (m *Machine) xackdel(_ *execCtx, argv [][]byte) Reply {
	a, r := parseDelEx(argv, 3)
	if r != nil {
		return *r
	}
	s, g := m.lookupGroup(argv[1], argv[2])
	if g == nil {
		return allMinusOne(len(a.ids))
	}
	return m.deleteIDs(s, g, a)
}

// deleteIDs acknowledges each ID in g (if not nil) and deletes it under
// a.refs, with XDEL's bookkeeping (first ID, max deleted ID, version).
func (m *Machine) deleteIDs(s *stream, g *group, a delexArgs) Reply {
	out := make([]Reply, len(a.ids))
	changed, firstGone := false, false
	for i, id := range a.ids {
		if g != nil {
			g.unpend(id)
		}
		res := s.deleteWithRefs(id, a.refs)
		if res == 1 {
			changed = true
			firstGone = firstGone || id == s.firstID
		}
		out[i] = Int(res)
	}
	if changed {
		if s.length == 0 {
			s.firstID = ID{}
		} else if firstGone {
			s.updateFirstID()
		}
		m.touch(s)
	}
	return Array(out...)
}
