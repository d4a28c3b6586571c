package fsm

import "slices"

// errReadClaimIdle is the error of a bad CLAIM min-idle-time (a guess: the
// 8.4 text was not available; it follows XCLAIM's wording).
const errReadClaimIdle = "ERR Invalid min-idle-time argument for XREADGROUP"

// readClaim serves XREADGROUP ... CLAIM min-idle-time with ">" (Redis 8.4):
// first the group's PEL entries idle for at least min-idle-time, oldest
// delivery first (ties by ID), claimed by the consumer with one more
// delivery; then new entries. COUNT covers both. Every entry has four
// elements: id, fields, idle ms, deliveries before this read (new entries
// 0, 0). Idle entries no longer in the stream leave the PEL (as XAUTOCLAIM
// does); entries past the group's max deliveries are dead-lettered. The
// budget (MAXCOUNT, MAXSIZE) is checked before each entry. It reports false
// when nothing was served; the consumer is created or seen only when
// something is.
func (s *stream) readClaim(g *group, cname string, a *readOpts, now int64, sink dlqSink, b *readBudget, key []byte) (Reply, bool) {
	var out []Reply
	owner := ""
	claimant := func() string {
		if owner == "" {
			c, _ := g.touchConsumer(cname, now)
			owner = c.name // PEL entries share the consumer's name string
		}
		return owner
	}
	limit := b.streamCount(a.count)
	b.open(key)
	full := func() bool { return (limit > 0 && int64(len(out)) >= limit) || !b.room() }
	for _, n := range idleNacks(g, now, a.minIdle) {
		if full() {
			break
		}
		e, ok := s.entryReply(n.id)
		if !ok {
			g.unpend(n.id)
			continue
		}
		if sink.divert(g, n) {
			continue
		}
		idle, before := now-n.time, n.count
		n.owner, n.time, n.count = claimant(), now, n.count+1
		g.setOwner(n)
		e = Array(e.Elems[0], e.Elems[1], Int(idle), Int(int64(before)))
		b.charge(e)
		out = append(out, e)
	}
	if len(out) > 0 {
		g.setActive(cname, now)
	}
	if !full() {
		rest := int64(0)
		if limit > 0 {
			rest = limit - int64(len(out))
		}
		hits := s.newEntries(g, rest)
		if b.maxSize > 0 {
			// Size each entry as served: [id, fields, 0, 0].
			claimed := entriesReply(hits).Elems
			for i, e := range claimed {
				claimed[i] = Array(e.Elems[0], e.Elems[1], Int(0), Int(0))
			}
			hits = hits[:b.admit(claimed)]
		} else {
			b.entries += int64(len(hits))
		}
		if len(hits) > 0 {
			for _, e := range s.deliver(g, claimant(), hits, a.noack, now).Elems {
				out = append(out, Array(e.Elems[0], e.Elems[1], Int(0), Int(0)))
			}
		}
	}
	if len(out) == 0 {
		b.drop()
		return Reply{}, false
	}
	return Array(out...), true
}

// idleNacks returns g's PEL entries idle for at least minIdle at now,
// oldest delivery first, then by ID.
func idleNacks(g *group, now, minIdle int64) []nack {
	var out []nack
	g.pel.Scan(func(n nack) bool {
		if now-n.time >= minIdle {
			out = append(out, n)
		}
		return true
	})
	slices.SortStableFunc(out, func(a, b nack) int {
		switch {
		case a.time < b.time:
			return -1
		case a.time > b.time:
			return 1
		}
		return 0
	})
	return out
}

// hasIdle reports whether a PEL entry of g is idle for minIdle at now.
func hasIdle(g *group, now, minIdle int64) bool {
	found := false
	g.pel.Scan(func(n nack) bool {
		found = now-n.time >= minIdle
		return !found
	})
	return found
}
