package fsm

import "strconv"

// XREAD / XREADGROUP MAXCOUNT and MAXSIZE (Redis 8.10): caps on the whole
// reply, across all the streams of one command, where COUNT caps each
// stream. Streams are served in argument order; once a cap is reached the
// remaining streams are skipped (not in the reply; for XREADGROUP their
// consumer is not touched and nothing is delivered).
//
// MAXCOUNT caps the number of entries (a deleted history entry [id, nil]
// counts; a dead-lettered one, which is not in the reply, does not).
//
// MAXSIZE is a soft cap in reply bytes: before each entry, if at least one
// entry is already in the reply and the reply has reached maxsize bytes, the
// read stops; so one entry, however large, is always served. Redis measures
// the bytes it has written to the client for the command, which depends on
// the client's protocol; the fsm must not (an XREADGROUP's deliveries are
// replicated state), so the reply is measured as RESP2: for each stream in
// the reply its "*2" pair header and key bulk, plus every entry's full
// encoding (id bulk, field/value array; CLAIM's two integers). The deferred
// array lengths (the outer array, each stream's entry array) are not
// counted, as Redis writes them after the entries. A stream whose header
// alone reaches the cap before its first entry is left out of the reply
// (Redis would show it with an empty list), except a history read, whose
// empty list is a real answer.

// readLimits are the parsed MAXCOUNT and MAXSIZE options (0: not given).
type readLimits struct {
	maxCount int64
	maxSize  int64
}

// minEntryBytes is the smallest RESP2 encoding of an entry in a read reply:
// "*2\r\n$3\r\n0-1\r\n*-1\r\n", a deleted history entry. It bounds how many
// entries a MAXSIZE read can serve, so a read fetches no more than that.
const minEntryBytes = 18

// parseOption parses argv[i] if it is MAXCOUNT or MAXSIZE with a value after
// it: it reports whether it was one, and the error of a bad value. Both take
// a positive 64-bit integer; anything else gets the option's own error
// (Redis parses them with a range check and that message for both cases).
func (l *readLimits) parseOption(argv [][]byte, i int) (bool, *Reply) {
	if i+1 >= len(argv) {
		return false, nil
	}
	var dst *int64
	var msg string
	switch o := argv[i]; {
	case eqFold(o, "maxcount"):
		dst, msg = &l.maxCount, errMaxCount
	case eqFold(o, "maxsize"):
		dst, msg = &l.maxSize, errMaxSize
	default:
		return false, nil
	}
	v, ok := parseLL(argv[i+1])
	if !ok || v <= 0 {
		r := Err(msg)
		return true, &r
	}
	*dst = v
	return true, nil
}

// check is the check Redis makes after parsing every option: MAXCOUNT, a
// cap on the whole reply, may not be below the per-stream COUNT (count 0:
// no COUNT).
func (l *readLimits) check(count int64) *Reply {
	if l.maxCount > 0 && count > 0 && l.maxCount < count {
		r := Err(errMaxCountBelowCount)
		return &r
	}
	return nil
}

// readBudget tracks what a read has put in its reply against its limits.
type readBudget struct {
	readLimits
	entries int64
	bytes   int64
	header  int64 // bytes charged for the open stream's header
	stopped bool  // an entry was refused: serve nothing more
}

func newBudget(l readLimits) *readBudget { return &readBudget{readLimits: l} }

// limited reports whether any cap was given.
func (b *readBudget) limited() bool { return b.maxCount > 0 || b.maxSize > 0 }

// room reports whether another entry may be added; once it says no, the
// read is over.
func (b *readBudget) room() bool {
	if !b.stopped && ((b.maxCount > 0 && b.entries >= b.maxCount) ||
		(b.maxSize > 0 && b.entries > 0 && b.bytes >= b.maxSize)) {
		b.stopped = true
	}
	return !b.stopped
}

// streamCount returns the number of entries to fetch for the next stream
// given its COUNT (0: all): no more than MAXCOUNT leaves, nor than MAXSIZE
// could ever admit. Call it only after room() said yes. 0 means no limit.
func (b *readBudget) streamCount(count int64) int64 {
	limit := count
	lower := func(n int64) {
		if limit == 0 || n < limit {
			limit = n
		}
	}
	if b.maxCount > 0 {
		lower(b.maxCount - b.entries)
	}
	if b.maxSize > 0 {
		lower(b.maxSize/minEntryBytes + 2)
	}
	return limit
}

// open charges the header of the stream about to be served.
func (b *readBudget) open(key []byte) {
	b.header = 4 + bulkSize(len(key)) // "*2\r\n" + key bulk
	b.bytes += b.header
}

// drop refunds the open stream's header: it is left out of the reply.
func (b *readBudget) drop() { b.bytes -= b.header }

// charge counts entry e into the reply.
func (b *readBudget) charge(e Reply) {
	b.entries++
	if b.maxSize > 0 {
		b.bytes += resp2Size(e)
	}
}

// admit charges the leading entries that fit and returns how many.
func (b *readBudget) admit(entries []Reply) int {
	for i, e := range entries {
		if !b.room() {
			return i
		}
		b.charge(e)
	}
	return len(entries)
}

// admitHits is admit for one stream's hits (new entries), opening the
// stream; it returns how many are served and drops the stream when none.
func (b *readBudget) admitHits(key []byte, hits []hit) int {
	if !b.limited() {
		return len(hits)
	}
	b.open(key)
	var n int
	if b.maxSize == 0 {
		n = min(len(hits), int(b.maxCount-b.entries))
		b.entries += int64(n)
	} else {
		n = b.admit(entriesReply(hits).Elems)
	}
	if n == 0 {
		b.drop()
	}
	return n
}

// bulkSize is the RESP2 size of a bulk string of n bytes.
func bulkSize(n int) int64 { return int64(1 + digits(int64(n)) + 2 + n + 2) }

// digits is the length of n in decimal.
func digits(n int64) int { return len(strconv.AppendInt(nil, n, 10)) }

// resp2Size is the size of r rendered as RESP2 (as resp renders it to a
// RESP2 client).
func resp2Size(r Reply) int64 {
	switch r.Kind {
	case KindSimple, KindError:
		return int64(1 + len(r.Str) + 2)
	case KindInt:
		return int64(1 + digits(r.Int) + 2)
	case KindBulk:
		return bulkSize(len(r.Bulk))
	case KindNull, KindNullArray:
		return 5
	case KindPairs:
		n := int64(1 + digits(int64(len(r.Elems)/2)) + 2)
		for _, e := range r.Elems {
			n += resp2Size(e)
		}
		return n + 4*int64(len(r.Elems)/2)
	default: // KindArray, KindMap
		n := int64(1 + digits(int64(len(r.Elems))) + 2)
		for _, e := range r.Elems {
			n += resp2Size(e)
		}
		return n
	}
}
