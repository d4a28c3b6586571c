package fsm

import "strconv"

// pendingArgs are XPENDING's parsed arguments.
type pendingArgs struct {
	summary    bool
	minIdle    int64
	start, end ID
	count      int64
	consumer   []byte // nil: every consumer
}

func checkXPending(argv [][]byte) *Reply {
	_, r := parseXPending(argv)
	return r
}

// parseXPending parses XPENDING key group [[IDLE ms] start end count
// [consumer]] with Redis's checks, which all come before the key lookup.
func parseXPending(argv [][]byte) (pendingArgs, *Reply) {
	a := pendingArgs{summary: len(argv) == 3}
	fail := func(msg string) (pendingArgs, *Reply) { r := Err(msg); return a, &r }
	n := len(argv)
	if n != 3 && (n < 6 || n > 9) {
		return fail(errSyntax)
	}
	if a.summary {
		return a, nil
	}
	at := 3
	if eqFold(argv[3], "idle") {
		v, e := parseInt(argv[4])
		if e != nil {
			return a, e
		}
		if n < 8 {
			return fail(errSyntax)
		}
		a.minIdle = v
		at += 2
	}
	count, e := parseInt(argv[at+2])
	if e != nil {
		return a, e
	}
	a.count = max(count, 0)
	start, end, r := parseInterval(argv[at], argv[at+1])
	if r != nil {
		return a, r
	}
	a.start, a.end = start, end
	if at+3 < n {
		a.consumer = argv[at+3]
	}
	return a, nil
}

// xpending: XPENDING key group [[IDLE ms] start end count [consumer]].
// Idle times are the reader's clock (x.stamp) minus the delivery times.
func (m *Machine) xpending(x *execCtx, argv [][]byte) Reply {
	a, r := parseXPending(argv)
	if r != nil {
		return *r
	}
	_, g := m.lookupGroup(argv[1], argv[2])
	if g == nil {
		return errNoGroupKey(argv[1], argv[2])
	}
	if a.summary {
		return pendingSummary(g)
	}
	var ids []ID
	if a.consumer != nil {
		name := string(a.consumer)
		if _, ok := g.consumer(name); !ok {
			return Array()
		}
		g.cpel.Ascend(cref{name, a.start}, func(c cref) bool {
			if c.owner != name || a.end.Less(c.id) {
				return false
			}
			ids = append(ids, c.id)
			return true
		})
	}
	now := x.stamp
	out := []Reply{}
	emit := func(n nack) bool {
		if a.end.Less(n.id) || a.count == 0 {
			return false
		}
		if a.minIdle != 0 && now-n.time < a.minIdle {
			return true
		}
		a.count--
		out = append(out, Array(Bulk(n.id.AppendText(nil)), BulkString(n.owner),
			Int(max(now-n.time, 0)), Int(int64(n.count))))
		return true
	}
	if a.consumer != nil {
		for _, id := range ids {
			n, _ := g.pel.Get(nack{id: id})
			if !emit(n) {
				break
			}
		}
	} else {
		g.pel.Ascend(nack{id: a.start}, emit)
	}
	return Array(out...)
}

// pendingSummary is XPENDING's summary form.
func pendingSummary(g *group) Reply {
	if g.pel.Len() == 0 {
		return Array(Int(0), Null(), Null(), NullArray())
	}
	first, _ := g.pel.Min()
	last, _ := g.pel.Max()
	var owners []Reply
	g.consumers.Scan(func(c consumer) bool {
		if c.pending > 0 {
			owners = append(owners, Array(BulkString(c.name), BulkString(strconv.Itoa(c.pending))))
		}
		return true
	})
	return Array(Int(int64(g.pel.Len())), Bulk(first.id.AppendText(nil)), Bulk(last.id.AppendText(nil)), Array(owners...))
}
