package fsm

import "strconv"

// Dead letters (a streamraft extension, not in Redis): a group may name a
// dead-letter stream and a maximum number of deliveries. An entry that would
// be delivered once more than that (by an XREADGROUP history read, XCLAIM,
// XAUTOCLAIM or XREADGROUP CLAIM) is appended to the dead-letter stream and
// acknowledged instead, within the same Apply.

// Error texts of XGROUP SETDLQ.
const (
	errDLQSlot = "ERR the dead-letter key must hash to the same slot as the stream (use a hash tag such as {name})"
	errDLQSame = "ERR the dead-letter key must differ from the stream key"
	errDLQMax  = "ERR max-deliveries must be a positive integer"
)

// dlqHelp ends XGROUP HELP, after Redis's lines.
var dlqHelp = []string{
	"SETDLQ <key> <groupname> <max-deliveries> <dead-letter-key> | NONE",
	"    Move entries delivered max-deliveries times to a dead-letter stream (streamraft).",
}

// Field names of a dead-letter entry, before the original fields.
const (
	dlqFieldKey        = "source-key"
	dlqFieldID         = "source-id"
	dlqFieldDeliveries = "deliveries"
)

// parseSetDLQ checks XGROUP SETDLQ key group <max-deliveries dead-letter-key
// | NONE> and stores the policy in a (max 0: remove the policy).
func parseSetDLQ(argv [][]byte, a *xgroupArgs) *Reply {
	fail := func(r Reply) *Reply { return &r }
	switch len(argv) {
	case 5:
		if !eqFold(argv[4], "none") {
			return fail(errSubSyntax(argv))
		}
		return nil
	case 6:
	default:
		return fail(errSubSyntax(argv))
	}
	v, ok := parseLL(argv[4])
	if !ok || v < 1 {
		return fail(Err(errDLQMax))
	}
	if string(argv[5]) == string(argv[2]) {
		return fail(Err(errDLQSame))
	}
	if KeySlot(argv[5]) != KeySlot(argv[2]) {
		return fail(Err(errDLQSlot))
	}
	a.dlqMax, a.dlqKey = uint64(v), string(argv[5])
	return nil
}

// dlqSink dead-letters the entries of one stream during one Apply.
type dlqSink struct {
	m   *Machine
	x   *execCtx
	key string
	s   *stream
}

// divert dead-letters n, pending in g, when g has a policy and the entry
// was already delivered max-deliveries times (one more delivery would pass
// it). The entry is appended to the dead-letter stream with an auto ID
// (Entry.Stamp rule) and the fields source-key, source-id, deliveries, then
// its own; it leaves the PEL; the dead-letter key is signalled. divert
// reports whether it did so; an entry no longer in the stream, or a
// dead-letter stream whose IDs are exhausted, is left alone.
func (d dlqSink) divert(g *group, n nack) bool {
	if g.dlqMax == 0 || n.count < g.dlqMax {
		return false
	}
	e, ok := d.s.entryReply(n.id)
	if !ok {
		return false
	}
	dst := d.m.keys[g.dlqKey]
	var last ID
	if dst != nil {
		last = dst.lastID
	}
	if last == maxID {
		return false
	}
	id, msg := nextID(last, &addArgs{}, d.x.stamp)
	if msg != "" {
		return false
	}
	fields := e.Elems[1].Elems
	fv := make([][]byte, 0, 6+len(fields))
	fv = append(fv, []byte(dlqFieldKey), []byte(d.key), []byte(dlqFieldID), n.id.AppendText(nil),
		[]byte(dlqFieldDeliveries), strconv.AppendUint(nil, n.count, 10))
	for _, f := range fields {
		fv = append(fv, f.Bulk)
	}
	if dst == nil {
		dst = d.m.create(g.dlqKey)
	}
	dst.append(id, fv)
	d.m.touch(dst)
	d.x.signal(g.dlqKey)
	g.unpend(n.id)
	return true
}

// dlqInfo is the XINFO GROUPS fields of g's policy; none without one, so
// the reply stays Redis's.
func (g *group) dlqInfo() []Reply {
	if g.dlqMax == 0 {
		return nil
	}
	return []Reply{BulkString("dlq-max-deliveries"), Int(int64(g.dlqMax)),
		BulkString("dlq-key"), BulkString(g.dlqKey)}
}
