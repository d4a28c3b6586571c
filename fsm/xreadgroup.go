package fsm

// retryName is the internal command a blocked XREADGROUP is re-run as (see
// BlockedRetry). Validate refuses it, so no client can send it.
const retryName = "xreadgroup.retry"

// BlockedRetry returns argv, a validated XREADGROUP, as the command resp
// proposes when it re-runs a blocked XREADGROUP after a wake-up: the same
// arguments under the internal name "xreadgroup.retry". Apply runs it as
// XREADGROUP except that a vanished key or group gives Redis 7.0's errors for
// blocked clients (-UNBLOCKED the stream key no longer exists, -NOGROUP the
// consumer group this client was blocked on no longer exists) instead of
// the NOGROUP error a fresh XREADGROUP gets. The name cannot be forged:
// Validate (which every client command passes before it is proposed or
// queued in MULTI) refuses it as an unknown command.
func BlockedRetry(argv [][]byte) [][]byte {
	out := make([][]byte, len(argv))
	copy(out, argv)
	out[0] = []byte(retryName)
	return out
}

func checkXReadGroup(argv [][]byte) *Reply {
	_, r := parseXReadGroup(argv)
	return r
}

// parseXReadGroup parses XREADGROUP GROUP g c [COUNT n] [MAXCOUNT n]
// [MAXSIZE bytes] [BLOCK ms] [CLAIM min-idle-time] [NOACK] STREAMS key...
// id... as Redis 7.0 does (CLAIM as 8.4, MAXCOUNT and MAXSIZE as 8.10); IDs
// are checked in Apply, after each key's group lookup, as Redis orders its
// errors.
func parseXReadGroup(argv [][]byte) (readOpts, *Reply) { return parseReadOpts(argv, true) }

// isGT reports whether an XREADGROUP ID argument is ">" (C string compare).
func isGT(b []byte) bool { c := cstr(b); return len(c) == 1 && c[0] == '>' }

// readsNew reports whether an XREADGROUP ID argument asks for new entries:
// ">", or the largest ID spelled out, which is how Redis stores ">" and so
// reads (and blocks) exactly like it.
func readsNew(b []byte) bool {
	if isGT(b) {
		return true
	}
	id, ok := parseStrictID(b)
	return ok && id == maxID
}

// rgTarget is one stream of an XREADGROUP after its key and group lookup.
type rgTarget struct {
	s       *stream
	g       *group
	id      ID
	history bool // an explicit ID: the consumer's PEL
}

// resolveReadGroup looks up every stream's key and group and parses its ID,
// in Redis's order (per stream: the group, then the ID). It does not modify
// the state.
func (m *Machine) resolveReadGroup(argv [][]byte, a *readOpts, retry bool) ([]rgTarget, *Reply) {
	ts := make([]rgTarget, len(a.keys))
	fail := func(r Reply) ([]rgTarget, *Reply) { return nil, &r }
	for i, key := range a.keys {
		s, g := m.lookupGroup(key, a.group)
		switch {
		case retry && s == nil:
			return fail(Err(errBlockedNoKey))
		case retry && g == nil:
			return fail(Err(errBlockedNoGroup))
		case g == nil:
			return fail(Err("NOGROUP No such key '" + string(cstr(key)) + "' or consumer group '" +
				string(cstr(a.group)) + "' in XREADGROUP with GROUP option"))
		}
		ts[i] = rgTarget{s: s, g: g}
		arg := argv[a.idArgs+i]
		switch c := cstr(arg); {
		case len(c) == 1 && c[0] == '$':
			return fail(Err(errDollarInGroup))
		case readsNew(arg):
		default:
			id, ok := parseStrictID(arg)
			if !ok {
				return fail(Err(errInvalidID))
			}
			ts[i].id, ts[i].history = id, true
		}
	}
	return ts, nil
}

// xreadgroup: XREADGROUP GROUP g c [COUNT n] [MAXCOUNT n] [MAXSIZE bytes]
// [BLOCK ms] [CLAIM min-idle-time] [NOACK] STREAMS key... id...; BLOCK is
// the caller's (see Blocking and TryRead). Once MAXCOUNT or MAXSIZE is
// reached the remaining streams are not served at all.
func (m *Machine) xreadgroup(x *execCtx, argv [][]byte) Reply {
	a, r := parseXReadGroup(argv)
	if r != nil {
		return *r
	}
	ts, r := m.resolveReadGroup(argv, &a, eqFold(argv[0], retryName))
	if r != nil {
		return *r
	}
	var kv []Reply
	cname := string(a.consumer)
	b := newBudget(a.limits)
	for i, t := range ts {
		if !b.room() {
			break
		}
		s, g, key := t.s, t.g, a.keys[i]
		var entries Reply
		sink := dlqSink{m: m, x: x, key: string(key), s: s}
		if t.history {
			c, _ := g.touchConsumer(cname, x.stamp)
			b.open(key)
			entries = s.readHistory(g, c.name, afterID(t.id), a.count, x.stamp, sink, b)
		} else if a.claim {
			var served bool
			if entries, served = s.readClaim(g, cname, &a, x.stamp, sink, b, key); !served {
				continue
			}
		} else {
			// Served when a live entry follows the group's last ID (Redis:
			// the last valid ID is greater); only then is the consumer
			// created or seen, as in Redis 7.0.
			hits := s.newEntries(g, b.streamCount(a.count))
			hits = hits[:b.admitHits(key, hits)]
			if len(hits) == 0 {
				continue
			}
			// PEL entries share the consumer's name string.
			c, _ := g.touchConsumer(cname, x.stamp)
			entries = s.deliver(g, c.name, hits, a.noack, x.stamp)
		}
		kv = append(kv, Bulk(a.keys[i]), entries)
	}
	if len(kv) == 0 {
		return NullArray()
	}
	return Pairs(kv...)
}

// afterID is the first ID an XREAD-style "greater than id" read serves;
// Redis's streamIncrID wraps the maximum ID to 0-0.
func afterID(id ID) ID {
	if next, ok := id.incr(); ok {
		return next
	}
	return ID{}
}

// newEntries returns the live entries after the group's last delivered ID,
// at most count (0: all).
func (s *stream) newEntries(g *group, count int64) []hit {
	if s.length == 0 || !g.lastID.Less(s.lastID) {
		return nil
	}
	return s.collect(afterID(g.lastID), maxID, count, nil)
}

// deliver serves hits (entries after the group's last ID) to consumer cname
// as never delivered before, as Redis's streamReplyWithRange with a group.
func (s *stream) deliver(g *group, cname string, hits []hit, noack bool, now int64) Reply {
	for i := range hits {
		id := hits[i].e.id
		if g.lastID.Less(id) {
			if g.entriesRead != invalidEntriesRead && !s.rangeHasTombstones(id) {
				g.entriesRead++
			} else if s.entriesAdded != 0 {
				g.entriesRead = s.estimateDistance(id)
			}
			g.lastID = id
		}
		if !noack {
			g.setOwner(nack{id: id, owner: cname, time: now, count: 1})
		}
	}
	if !noack && len(hits) > 0 {
		g.setActive(cname, now)
	}
	return entriesReply(hits)
}

// readHistory serves consumer cname's pending entries from start on (count
// 0: all) while the budget has room: deleted entries as [id, nil]; the
// others count one more delivery. An entry past its group's max deliveries
// is dead-lettered, not served.
func (s *stream) readHistory(g *group, cname string, start ID, count int64, now int64, sink dlqSink, b *readBudget) Reply {
	var ids []ID
	count = b.streamCount(count)
	g.cpel.Ascend(cref{cname, start}, func(r cref) bool {
		if r.owner != cname || (count > 0 && int64(len(ids)) >= count) {
			return false
		}
		ids = append(ids, r.id)
		return true
	})
	out := make([]Reply, 0, len(ids))
	for _, id := range ids {
		if !b.room() {
			break
		}
		e, ok := s.entryReply(id)
		if !ok {
			e = Array(Bulk(id.AppendText(nil)), NullArray())
			b.charge(e)
			out = append(out, e)
			continue
		}
		n, _ := g.pel.Get(nack{id: id})
		if sink.divert(g, n) {
			continue
		}
		n.time = now
		n.count++
		g.pel.Set(n)
		b.charge(e)
		out = append(out, e)
	}
	return Array(out...)
}

// TryRead answers a validated XREADGROUP without the Raft log when running
// it would change nothing: every ID is ">", the groups exist, no stream
// has entries past its group's last delivered ID and, with CLAIM, no PEL
// entry is idle for min-idle-time by nowMs. (Like Redis 7.0, such a
// read neither creates the consumer nor refreshes its seen-time.) It then
// returns (NullArray, true) and resp replies or blocks. Errors found this
// way (NOGROUP, a "$" ID, ...; for a BlockedRetry argv the blocked errors)
// are returned with true: they are what Apply would answer in this state.
// Anything else returns false: propose it.
func (m *Machine) TryRead(argv [][]byte, nowMs int64) (Reply, bool) {
	if len(argv) == 0 || !(eqFold(argv[0], "xreadgroup") || eqFold(argv[0], retryName)) {
		return Reply{}, false
	}
	a, r := parseXReadGroup(argv)
	if r != nil {
		return *r, true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	ts, r := m.resolveReadGroup(argv, &a, eqFold(argv[0], retryName))
	if r != nil {
		return *r, true
	}
	for _, t := range ts {
		if t.history || (a.claim && hasIdle(t.g, nowMs, a.minIdle)) {
			return Reply{}, false
		}
		if len(t.s.newEntries(t.g, 1)) > 0 {
			return Reply{}, false
		}
	}
	return NullArray(), true
}

// blockingReadGroup is Blocking for XREADGROUP: only when every ID is ">".
func blockingReadGroup(argv [][]byte) (int64, []string, bool) {
	a, r := parseXReadGroup(argv)
	if r != nil || !a.block {
		return 0, nil, false
	}
	for _, id := range argv[a.idArgs:] {
		if !readsNew(id) {
			return 0, nil, false
		}
	}
	keys := make([]string, len(a.keys))
	for i, k := range a.keys {
		keys[i] = string(k)
	}
	return a.timeoutMs, keys, true
}
