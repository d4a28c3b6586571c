package fsm

// claimArgs are XCLAIM's parsed arguments.
type claimArgs struct {
	minIdle    int64
	ids        []ID
	force      bool
	justID     bool
	retryCount int64 // -1: not given
	delivery   int64 // -1: not given (IDLE/TIME)
	lastID     ID
}

// parseXClaim parses XCLAIM's arguments after the key and group lookup, as
// Redis does: min-idle-time, the IDs up to the first that does not parse,
// then the options. now is the command's time (IDLE is relative to it).
func parseXClaim(argv [][]byte, now int64) (claimArgs, *Reply) {
	a := claimArgs{retryCount: -1, delivery: -1}
	fail := func(msg string) (claimArgs, *Reply) { r := Err(msg); return a, &r }
	v, ok := parseLL(argv[4])
	if !ok {
		return fail(errClaimMinIdle)
	}
	a.minIdle = max(v, 0)
	j := 5
	for ; j < len(argv); j++ {
		id, ok := parseStrictID(argv[j])
		if !ok {
			break
		}
		a.ids = append(a.ids, id)
	}
	for ; j < len(argv); j++ {
		more := len(argv) - 1 - j
		opt := argv[j]
		var num *int64
		var errMsg string
		switch {
		case eqFold(opt, "force"):
			a.force = true
			continue
		case eqFold(opt, "justid"):
			a.justID = true
			continue
		case eqFold(opt, "idle") && more > 0:
			num, errMsg = &a.delivery, errClaimIdle
		case eqFold(opt, "time") && more > 0:
			num, errMsg = &a.delivery, errClaimTime
		case eqFold(opt, "retrycount") && more > 0:
			num, errMsg = &a.retryCount, errClaimRetry
		case eqFold(opt, "lastid") && more > 0:
			j++
			id, ok := parseStrictID(argv[j])
			if !ok {
				return fail(errInvalidID)
			}
			a.lastID = id
			continue
		default:
			return fail("ERR Unrecognized XCLAIM option '" + sanitize(cstr(opt)) + "'")
		}
		j++
		v, ok := parseLL(argv[j])
		if !ok {
			return fail(errMsg)
		}
		*num = v
		if eqFold(opt, "idle") {
			a.delivery = now - v
		}
	}
	return a, nil
}

// xclaim: XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
// [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id].
func (m *Machine) xclaim(x *execCtx, argv [][]byte) Reply {
	s, g := m.lookupGroup(argv[1], argv[2])
	if g == nil {
		return errNoGroupKey(argv[1], argv[2])
	}
	now := x.stamp
	a, r := parseXClaim(argv, now)
	if r != nil {
		return *r
	}
	if g.lastID.Less(a.lastID) {
		g.lastID = a.lastID
	}
	delivery := now
	if a.delivery != -1 && a.delivery >= 0 && a.delivery <= now {
		delivery = a.delivery
	}
	cname := string(argv[3])
	g.seeConsumer(cname, now)
	out := []Reply{}
	sink := dlqSink{m: m, x: x, key: string(argv[1]), s: s}
	for _, id := range a.ids {
		n, pending := g.pel.Get(nack{id: id})
		if !s.entryExists(id) {
			if pending {
				g.unpend(id)
			}
			continue
		}
		if !pending {
			if !a.force {
				continue
			}
			n = nack{id: id, count: 1}
		} else if a.minIdle != 0 && now-n.time < a.minIdle {
			continue
		} else if !a.justID && sink.divert(g, n) {
			continue
		}
		n.time = delivery
		if a.retryCount >= 0 {
			n.count = uint64(a.retryCount)
		} else if !a.justID {
			n.count++
		}
		c, _ := g.touchConsumerIfNew(cname, now)
		n.owner = c.name // PEL entries share the consumer's name string
		g.setOwner(n)
		out = append(out, claimedReply(s, id, a.justID))
		g.setActive(cname, now)
	}
	return Array(out...)
}

// claimedReply is one element of an XCLAIM or XAUTOCLAIM reply: the ID, or
// the entry.
func claimedReply(s *stream, id ID, justID bool) Reply {
	if justID {
		return Bulk(id.AppendText(nil))
	}
	e, _ := s.entryReply(id)
	return e
}
