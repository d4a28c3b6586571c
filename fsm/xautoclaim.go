package fsm

// autoclaimArgs are XAUTOCLAIM's parsed arguments.
type autoclaimArgs struct {
	minIdle int64
	start   ID
	count   int64
	justID  bool
}

// maxAutoclaimCount is Redis's LONG_MAX / max(sizeof(streamID), 10).
const maxAutoclaimCount = (1<<63 - 1) / 16

// autoclaimAllocLimit stands for the allocation of COUNT stream IDs that
// Redis makes (and that fails, "COUNT too high") before claiming: whether it
// fails depends on the host's memory, so the fsm fixes the limit at 2^42
// IDs (64 TiB), above which Redis 7.0.15 failed on the reference host.
const autoclaimAllocLimit = 1 << 42

func checkXAutoClaim(argv [][]byte) *Reply {
	_, r := parseXAutoClaim(argv)
	return r
}

// parseXAutoClaim parses XAUTOCLAIM key group consumer min-idle start
// [COUNT n] [JUSTID]; these checks come before the key lookup in Redis.
func parseXAutoClaim(argv [][]byte) (autoclaimArgs, *Reply) {
	a := autoclaimArgs{count: 100}
	fail := func(msg string) (autoclaimArgs, *Reply) { r := Err(msg); return a, &r }
	v, ok := parseLL(argv[4])
	if !ok {
		return fail(errAutoMinIdle)
	}
	a.minIdle = max(v, 0)
	start, ex, ok := parseIntervalID(argv[5], 0)
	if !ok {
		return fail(errInvalidID)
	}
	if ex {
		if start, ok = start.incr(); !ok {
			return fail(errInvalidStart)
		}
	}
	a.start = start
	for j := 6; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case eqFold(argv[j], "count") && more > 0:
			j++
			n, ok := parseLL(argv[j])
			if !ok || n < 1 || n > maxAutoclaimCount {
				return fail(errAutoCount)
			}
			a.count = n
		case eqFold(argv[j], "justid"):
			a.justID = true
		default:
			return fail(errSyntax)
		}
	}
	return a, nil
}

// xautoclaim: XAUTOCLAIM key group consumer min-idle-time start [COUNT n]
// [JUSTID]: claims up to COUNT idle entries, scanning at most 10 x COUNT
// PEL entries from start; it returns [next cursor, claimed, deleted IDs].
func (m *Machine) xautoclaim(x *execCtx, argv [][]byte) Reply {
	a, r := parseXAutoClaim(argv)
	if r != nil {
		return *r
	}
	s, g := m.lookupGroup(argv[1], argv[2])
	if g == nil {
		return errNoGroupKey(argv[1], argv[2])
	}
	if a.count > autoclaimAllocLimit {
		return Err(errAutoMemory)
	}
	now := x.stamp
	cname := string(argv[3])
	g.seeConsumer(cname, now)
	attempts, count := a.count*10, a.count
	claimed, deleted := []Reply{}, []Reply{}
	pivot, more := a.start, true
	sink := dlqSink{m: m, x: x, key: string(argv[1]), s: s}
	for ; attempts > 0 && count > 0 && more; attempts-- {
		n, ok := nextNack(g, pivot)
		if !ok {
			more = false
			break
		}
		pivot, more = n.id.incr()
		if !s.entryExists(n.id) {
			g.unpend(n.id)
			deleted = append(deleted, Bulk(n.id.AppendText(nil)))
			count--
			continue
		}
		if a.minIdle != 0 && now-n.time < a.minIdle {
			continue
		}
		if !a.justID && sink.divert(g, n) {
			continue // dead-lettered: not claimed, not counted
		}
		n.time = now
		if !a.justID {
			n.count++
		}
		c, _ := g.touchConsumerIfNew(cname, now)
		n.owner = c.name // PEL entries share the consumer's name string
		g.setOwner(n)
		claimed = append(claimed, claimedReply(s, n.id, a.justID))
		count--
		g.setActive(cname, now)
	}
	var cursor ID
	if more {
		if n, ok := nextNack(g, pivot); ok {
			cursor = n.id
		}
	}
	return Array(Bulk(cursor.AppendText(nil)), Array(claimed...), Array(deleted...))
}

// nextNack returns the first pending entry at or after id.
func nextNack(g *group, id ID) (nack, bool) {
	var out nack
	found := false
	g.pel.Ascend(nack{id: id}, func(n nack) bool { out, found = n, true; return false })
	return out, found
}
