package resp

import "github.com/streamraft/streamraft/fsm"

// Multi-key commands on a node with several shards: like Redis Cluster,
// every key of one command (DEL k1 k2, XREAD STREAMS a b, WATCH a b), and
// every key of a transaction, must be in one hash slot, else the reply is
// CROSSSLOT. With one shard every key is in one Raft group, so streamraft
// behaves as a standalone Redis and never answers CROSSSLOT.

// noSlot is a slot value meaning "no key seen yet".
const noSlot = -1

// sharded reports whether the node splits its slots over several shards,
// which is when the cross-slot rules apply.
func (c *conn) sharded() bool { return c.srv.backend.Shards() > 1 }

// commandSlot returns the one slot of argv's keys (noSlot when it has
// none), or cross true when they span several slots.
func commandSlot(cmd *command, argv [][]byte) (slot int, cross bool) {
	pos, ok := cmd.meta.keys(argv)
	if !ok {
		return noSlot, false
	}
	slot = noSlot
	for _, p := range pos {
		if slot, cross = mergeSlot(slot, argv[p]); cross {
			return slot, true
		}
	}
	return slot, false
}

// mergeSlot adds key to a running slot: cross is true when key's slot
// differs from slot.
func mergeSlot(slot int, key []byte) (int, bool) {
	s := fsm.KeySlot(key)
	if slot != noSlot && slot != s {
		return slot, true
	}
	return s, false
}

// crossSlot reports whether argv's keys span several slots on a sharded
// node (Redis checks this before queueing in MULTI).
func (c *conn) crossSlot(cmd *command, argv [][]byte) bool {
	if !c.sharded() {
		return false
	}
	_, cross := commandSlot(cmd, argv)
	return cross
}

// transactionCrossSlot reports whether a transaction's queued commands and
// WATCHed keys span several slots on a sharded node. Redis 7.0 Cluster
// does not look at WATCHed keys; streamraft must, since one Raft entry on
// one shard checks them and runs the commands atomically.
func (c *conn) transactionCrossSlot(queue []queued, watched []watchedKey) bool {
	if !c.sharded() {
		return false
	}
	slot := noSlot
	for _, q := range queue {
		if q.cmd.kind == kindLocal || q.invalid != nil {
			continue
		}
		s, cross := commandSlot(q.cmd, q.argv)
		if cross {
			return true
		}
		if s == noSlot {
			continue
		}
		if slot != noSlot && s != slot {
			return true
		}
		slot = s
	}
	for _, w := range watched {
		var cross bool
		if slot, cross = mergeSlot(slot, w.key); cross {
			return true
		}
	}
	return false
}
