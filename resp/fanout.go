package resp

import (
	"errors"
	"math/bits"
	"slices"
	"strconv"

	"github.com/streamraft/streamraft/fsm"
)

// Keyless commands see the shards this node leads (ledShards), as a Redis
// Cluster node's see the keys of its own slots: DBSIZE and INFO keyspace
// sum, KEYS concatenates (Redis leaves the order unspecified), FLUSHALL and
// FLUSHDB write to each shard, and SCAN walks the shards one after the
// other.

// fanoutRead runs the read argv on every shard led here, in shard order.
func fanoutRead(c *conn, argv [][]byte, nowMs int64) ([]fsm.Reply, error) {
	led := c.ledShards()
	out := make([]fsm.Reply, 0, len(led))
	for i, ok := range led {
		if !ok {
			continue
		}
		r, err := c.srv.backend.ReadShard(c.ctx, i, func(m *fsm.Machine) fsm.Reply { return m.Read(argv, nowMs) })
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// fanoutDBSize: DBSIZE, the sum of the shards' key counts.
func fanoutDBSize(c *conn, argv [][]byte, nowMs int64) (fsm.Reply, error) {
	rs, err := fanoutRead(c, argv, nowMs)
	if err != nil {
		return fsm.Reply{}, err
	}
	sum := int64(0)
	for _, r := range rs {
		if r.Kind != fsm.KindInt {
			return r, nil
		}
		sum += r.Int
	}
	return fsm.Int(sum), nil
}

// fanoutKeys: KEYS pattern, every shard's matches one shard after another.
func fanoutKeys(c *conn, argv [][]byte, nowMs int64) (fsm.Reply, error) {
	rs, err := fanoutRead(c, argv, nowMs)
	if err != nil {
		return fsm.Reply{}, err
	}
	var keys []fsm.Reply
	for _, r := range rs {
		if r.Kind != fsm.KindArray {
			return r, nil
		}
		keys = append(keys, r.Elems...)
	}
	return fsm.Array(keys...), nil
}

// fanoutFlush: FLUSHALL and FLUSHDB, one Raft entry per shard led here. It
// is not atomic across shards (a reader may see some shards flushed and not
// others), as in Redis Cluster where FLUSHALL flushes one node at a time.
// A node that leads no shard has nothing to flush: OK, as Redis answers on
// a node without slots.
func fanoutFlush(c *conn, argv [][]byte, _ int64) (fsm.Reply, error) {
	last := fsm.OK()
	for i, ok := range c.ledShards() {
		if !ok {
			continue
		}
		r, err := c.srv.backend.WriteShard(c.ctx, i, fsm.Request{Cmds: [][][]byte{argv}})
		if err != nil {
			return fsm.Reply{}, err
		}
		if r.IsError() {
			return r, nil
		}
		last = r
	}
	return last, nil
}

// SCAN over shards. A shard's cursor is the 64-bit hash of the next key it
// will visit (fsm/keys.go: keys in (hash, key) order, batches end on a hash
// boundary). With n > 1 shards, the client's cursor keeps the shard index
// in its top k = bits.Len(n-1) bits and the shard cursor's top 64-k bits in
// the rest:
//
//	cursor = shard<<(64-k) | shardCursor>>k
//
// Resuming at shardCursor>>k<<k, at or before the true shard cursor, may
// return a few keys twice but never skips one, so Redis's guarantee holds:
// a key present for the whole scan is returned at least once. When the
// truncation would resume where the call started (more than COUNT keys
// whose hashes share their top 64-k bits), the call goes on scanning, so
// every call makes progress. A shard's end moves to the next shard's
// start; the last shard's end is cursor 0. With one shard k is 0 and the
// cursor is the shard's own.
//
// n and k count every shard of the node, led here or not, so a cursor
// keeps its meaning while leadership moves. A shard not led here (its
// scanner answers errNotLed) is passed over within the same call, from
// the start of the next shard: a cursor into a shard this node has
// stopped leading just moves on.

// errNotLed is a shard scanner's answer for a shard this node does not
// lead: scanShards skips it.
var errNotLed = errors.New("shard not led by this node")

// scanShardBits is k for n shards.
func scanShardBits(n int) int { return bits.Len(uint(n - 1)) }

// fanoutScan: SCAN cursor [MATCH pattern] [COUNT n] [TYPE type].
func fanoutScan(c *conn, argv [][]byte, nowMs int64) (fsm.Reply, error) {
	led := c.ledShards()
	if len(led) == 1 {
		if !led[0] {
			return scanReply(0, nil), nil
		}
		return c.srv.backend.ReadShard(c.ctx, 0, func(m *fsm.Machine) fsm.Reply { return m.Read(argv, nowMs) })
	}
	cursor, err := strconv.ParseUint(string(argv[1]), 10, 64)
	if err != nil {
		return fsm.Err(errInvalidCursor), nil
	}
	return scanShards(len(led), cursor, func(shard int, inner uint64) (uint64, []fsm.Reply, *fsm.Reply, error) {
		if !led[shard] {
			return 0, nil, nil, errNotLed
		}
		return scanShard(c, shard, inner, argv, nowMs)
	})
}

// shardScanner runs one SCAN call from inner on shard: the shard's next
// cursor and keys, or a reply to return as is (bad) or an error (errNotLed
// to have the shard skipped).
type shardScanner func(shard int, inner uint64) (next uint64, keys []fsm.Reply, bad *fsm.Reply, err error)

// scanShards runs the SCAN call at cursor over n shards (see above).
func scanShards(n int, cursor uint64, scan shardScanner) (fsm.Reply, error) {
	k := scanShardBits(n)
	shard, inner := int(cursor>>(64-k)), cursor<<k
	if shard >= n { // not a cursor this server gave: the scan is over
		return scanReply(0, nil), nil
	}
	start := inner >> k
	var keys []fsm.Reply
	for {
		next, got, bad, err := scan(shard, inner)
		skipped := errors.Is(err, errNotLed)
		if skipped {
			next, err = 0, nil
		}
		if err != nil || bad != nil {
			return derefReply(bad), err
		}
		keys = append(keys, got...)
		switch {
		case next == 0 && shard+1 < n && skipped:
			shard, inner, start = shard+1, 0, 0 // go on from the next shard's start
			continue
		case next == 0 && shard+1 < n:
			return scanReply(uint64(shard+1)<<(64-k), keys), nil
		case next == 0:
			return scanReply(0, keys), nil
		case next>>k > start:
			return scanReply(uint64(shard)<<(64-k)|next>>k, keys), nil
		}
		inner = next // no progress once truncated: keep scanning here
	}
}

// scanShard runs SCAN from inner on shard. bad is set when the fsm
// answers something other than SCAN's array.
func scanShard(c *conn, shard int, inner uint64, argv [][]byte, nowMs int64) (next uint64, keys []fsm.Reply, bad *fsm.Reply, err error) {
	a := slices.Clone(argv)
	a[1] = []byte(strconv.FormatUint(inner, 10))
	r, err := c.srv.backend.ReadShard(c.ctx, shard, func(m *fsm.Machine) fsm.Reply { return m.Read(a, nowMs) })
	if err != nil {
		return 0, nil, nil, err
	}
	if r.Kind != fsm.KindArray || len(r.Elems) != 2 {
		return 0, nil, &r, nil
	}
	next, perr := strconv.ParseUint(string(r.Elems[0].Bulk), 10, 64)
	if perr != nil {
		return 0, nil, &r, nil
	}
	return next, r.Elems[1].Elems, nil, nil
}

func derefReply(r *fsm.Reply) fsm.Reply {
	if r == nil {
		return fsm.Reply{}
	}
	return *r
}

func scanReply(cursor uint64, keys []fsm.Reply) fsm.Reply {
	return fsm.Array(fsm.BulkString(strconv.FormatUint(cursor, 10)), fsm.Array(keys...))
}
