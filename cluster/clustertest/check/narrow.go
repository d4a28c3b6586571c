package check

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/anishathalye/porcupine"
)

// narrow prepares a history for porcupine by cutting each operation's
// interval down to where the other operations allow it to take effect.
// porcupine's search tries every operation whose interval is open at each
// step; a write of unknown outcome, open until Infinity, or a read whose
// client stalled before recording its answer, makes it try far too many
// orders. The cuts rest on payloads being unique and on XADD appending at
// the end of the log in ID order. They are exact: each keeps every point
// at which the operation can take effect in any linearization, so the
// narrowed history is linearizable iff the history is.
//
// First, writes of unknown outcome (narrowUnknown):
//
//   - A write that some read shows took effect before that read returned:
//     its return becomes the earliest return of a read showing it. Its ID
//     is the one that read shows (another read showing another ID makes
//     the history illegal either way).
//   - A full read (XRANGE, or XREAD from 0-0 that returned fewer than its
//     COUNT) that does not show the write took effect before the write
//     did, or the write never did, which is the same as taking effect
//     after everything else: the write's call moves to the latest call of
//     a full read that does not show it.
//   - A write that no read shows only changes what XLEN answers: a read
//     after it either shows it or would select the same entries without
//     it. So unless an XLEN may come after its narrowed call, it is left
//     out, as never applied; unseen counts those, by key. One that is kept
//     enters the model without its payload, so that states differing only
//     in which unseen write sits where are equal.
//
// Then every write has an ID, but for unseen ones, and a key's log is at
// all times a prefix of its writes sorted by ID (narrowByOrder), since
// every one is applied once linearized. So a write may only follow the
// write of the next smaller ID, which the model then checks, instead of
// letting porcupine skip writes and learn much later that it cannot
// place them. As for intervals:
//
//   - an XADD with ID x takes effect after every write with a smaller ID
//     was called and before every write with a larger one returned;
//   - a read showing entries up to ID x takes effect after every write up
//     to x was called; a read that reached the end of the log (XRANGE, or
//     XREAD that returned fewer than its COUNT) takes effect before any
//     write with a larger ID (or, for XREAD, larger than its after-ID)
//     returned;
//   - an XLEN of n takes effect after the writes of the n smallest IDs
//     were called and before the others returned (not on a key with unseen
//     writes kept, whose IDs are unknown).
//
// Each cut keeps the operation inside its recorded interval, which alone
// makes the verdict sound: a linearization of the narrowed history is one
// of the history. If cuts cross, the history is not linearizable; the
// interval then shrinks to a point and porcupine finds the violation.
func narrow(ops []porcupine.Operation) (narrowed []porcupine.Operation, unseen map[string]int) {
	narrowed, unseen = narrowUnknown(ops)
	narrowByOrder(narrowed)
	for i, op := range narrowed {
		if in, out := asInput(op.Input), asOutput(op.Output); in.Op == OpXRange && !out.Unknown {
			out.sum, out.summed = entriesHash(out.Entries), true
			narrowed[i].Output = out
		}
	}
	return narrowed, unseen
}

func narrowUnknown(ops []porcupine.Operation) ([]porcupine.Operation, map[string]int) {
	type sighting struct {
		ret int64 // earliest return of a read showing the payload
		id  ID    // the ID that read shows
	}
	type fullRead struct {
		call  int64
		shows map[string]bool
	}
	shownBy := make(map[payloadKey]sighting)
	fullReads := make(map[string][]fullRead)
	lastXLen := make(map[string]int64) // latest return of an XLEN, by key
	for _, op := range ops {
		in, out := asInput(op.Input), asOutput(op.Output)
		switch {
		case in.Op.isWrite() || out.Unknown:
			continue
		case in.Op == OpXLen:
			if last, ok := lastXLen[in.Key]; !ok || op.Return > last {
				lastXLen[in.Key] = op.Return
			}
			continue
		}
		shows := make(map[string]bool, len(out.Entries))
		for _, e := range out.Entries {
			shows[e.Payload] = true
			pk := payloadKey{in.Key, e.Payload}
			if sh, ok := shownBy[pk]; !ok || op.Return < sh.ret {
				shownBy[pk] = sighting{ret: op.Return, id: e.ID}
			}
		}
		if reachedEnd(in, out) && in.After == (ID{}) {
			fullReads[in.Key] = append(fullReads[in.Key], fullRead{call: op.Call, shows: shows})
		}
	}

	unseen := make(map[string]int)
	narrowed := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		in, out := asInput(op.Input), asOutput(op.Output)
		if !in.Op.isWrite() || !out.Unknown {
			narrowed = append(narrowed, op)
			continue
		}
		call, ret := op.Call, op.Return
		for _, r := range fullReads[in.Key] {
			if !r.shows[in.Payload] {
				call = max(call, r.call)
			}
		}
		shown, seen := shownBy[payloadKey{in.Key, in.Payload}]
		if last, ok := lastXLen[in.Key]; !seen && (!ok || last < call) {
			unseen[in.Key]++
			continue
		}
		if seen {
			ret = min(ret, shown.ret)
			op.Output = Output{Unknown: true, ID: shown.id}
		} else {
			op.Output = Output{Unknown: true, unseen: true}
		}
		narrowed = append(narrowed, cut(op, call, ret))
	}
	return narrowed, unseen
}

// reachedEnd reports whether a read returned every entry up to the end of
// the log.
func reachedEnd(in Input, out Output) bool {
	switch in.Op {
	case OpXRange:
		return true
	case OpXRead:
		return in.Count <= 0 || len(out.Entries) < in.Count
	}
	return false
}

// idOrder holds one key's writes sorted by ID, with the latest call among
// each prefix and the earliest return among each suffix.
type idOrder struct {
	ids        []ID
	latestCall []int64 // latestCall[i]: max call of writes 0..i
	firstRet   []int64 // firstRet[i]: min return of writes i..end
	anon       bool    // the key has unseen writes, of unknown ID
}

// calledUpTo returns the latest call of the writes with an ID below x, or
// up to x if inclusive; math.MinInt64 if none.
func (o *idOrder) calledUpTo(x ID, inclusive bool) int64 {
	i, found := slices.BinarySearchFunc(o.ids, x, ID.Compare)
	if found && inclusive {
		i++
	}
	if i == 0 {
		return math.MinInt64
	}
	return o.latestCall[i-1]
}

// before returns the largest ID below x, 0-0 if none.
func (o *idOrder) before(x ID) ID {
	i, _ := slices.BinarySearchFunc(o.ids, x, ID.Compare)
	if i == 0 {
		return ID{}
	}
	return o.ids[i-1]
}

// returnedAfter returns the earliest return of the writes with an ID above
// x; math.MaxInt64 if none.
func (o *idOrder) returnedAfter(x ID) int64 {
	i, found := slices.BinarySearchFunc(o.ids, x, ID.Compare)
	if found {
		i++
	}
	if i == len(o.ids) {
		return math.MaxInt64
	}
	return o.firstRet[i]
}

func narrowByOrder(ops []porcupine.Operation) {
	type write struct {
		id        ID
		call, ret int64
	}
	writes := make(map[string][]write)
	anon := make(map[string]bool)
	for _, op := range ops {
		in, out := asInput(op.Input), asOutput(op.Output)
		switch {
		case !in.Op.isWrite():
		case out.Unknown && out.ID == (ID{}):
			anon[in.Key] = true
		default:
			writes[in.Key] = append(writes[in.Key], write{out.ID, op.Call, op.Return})
		}
	}
	orders := make(map[string]*idOrder, len(writes))
	for key, ws := range writes {
		slices.SortFunc(ws, func(a, b write) int { return a.id.Compare(b.id) })
		o := &idOrder{ids: make([]ID, len(ws)), latestCall: make([]int64, len(ws)), firstRet: make([]int64, len(ws)), anon: anon[key]}
		for i, w := range ws {
			o.ids[i] = w.id
			o.latestCall[i] = w.call
			if i > 0 {
				o.latestCall[i] = max(w.call, o.latestCall[i-1])
			}
		}
		for i := len(ws) - 1; i >= 0; i-- {
			o.firstRet[i] = ws[i].ret
			if i < len(ws)-1 {
				o.firstRet[i] = min(ws[i].ret, o.firstRet[i+1])
			}
		}
		orders[key] = o
	}
	for i, op := range ops {
		in, out := asInput(op.Input), asOutput(op.Output)
		o := orders[in.Key]
		if o == nil {
			continue
		}
		call, ret := op.Call, op.Return
		switch in.Op {
		case OpXAdd:
			if out.Unknown && out.ID == (ID{}) {
				continue
			}
			call = max(call, o.calledUpTo(out.ID, false))
			ret = min(ret, o.returnedAfter(out.ID))
			out.ordered, out.pred = true, o.before(out.ID)
			op.Output = out
		case OpXRange, OpXRead:
			if n := len(out.Entries); n > 0 {
				call = max(call, o.calledUpTo(out.Entries[n-1].ID, true))
			}
			if reachedEnd(in, out) {
				last := in.After
				if n := len(out.Entries); n > 0 && last.Less(out.Entries[n-1].ID) {
					last = out.Entries[n-1].ID
				}
				ret = min(ret, o.returnedAfter(last))
			}
		case OpXLen:
			if o.anon || out.Len < 0 || out.Len > len(o.ids) {
				continue
			}
			if out.Len > 0 {
				call = max(call, o.latestCall[out.Len-1])
			}
			if out.Len < len(o.ids) {
				ret = min(ret, o.firstRet[out.Len])
			}
		}
		ops[i] = cut(op, call, ret)
	}
}

// cut narrows op to its interval's intersection with [call, ret], and
// says so in its metadata. If they do not meet, the history is not
// linearizable, and op shrinks to one point of its interval: any part of
// the interval keeps the verdict sound.
func cut(op porcupine.Operation, call, ret int64) porcupine.Operation {
	call, ret = max(call, op.Call), min(ret, op.Return)
	if call > ret {
		call = min(call, op.Return)
		ret = call
	}
	if call == op.Call && ret == op.Return {
		return op
	}
	if op.Metadata == nil {
		op.Metadata = fmt.Sprintf("narrowed from [%d, %s]", op.Call, describeTime(op.Return))
	}
	op.Call, op.Return = call, ret
	return op
}

func describeTime(t int64) string {
	if t == Infinity {
		return "inf"
	}
	return strconv.FormatInt(t, 10)
}
