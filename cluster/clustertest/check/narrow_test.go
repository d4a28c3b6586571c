package check

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"
)

// randomHistory runs n random operations by three clients on one key
// against a sequential log, each taking effect at a random point inside
// its interval, so the history is linearizable; then, if corrupt, changes
// one answer or one interval, which mostly makes it not. Each operation's
// Metadata is its index, and points[i] is when operation i took effect,
// -1 for a write of unknown outcome that never did.
func randomHistory(r *rand.Rand, n int, corrupt bool) (ops []porcupine.Operation, points []int64) {
	type planned struct {
		op    porcupine.Operation
		point int64
		apply bool // for an unknown write: whether it took effect
	}
	var plan []planned
	free := make([]int64, 3) // when each client is idle again
	for i := range n {
		c := r.IntN(3)
		call := free[c] + r.Int64N(4)
		point := call + r.Int64N(6)
		ret := point + r.Int64N(6)
		free[c] = ret + 1
		var in Input
		switch r.IntN(6) {
		case 0, 1, 2:
			in = XAdd("k", fmt.Sprintf("p%d", i))
		case 3:
			in = XRange("k")
		case 4:
			in = XLen("k")
		default:
			in = XRead("k", ID{Ms: uint64(r.IntN(n))}, r.IntN(3))
		}
		plan = append(plan, planned{op: porcupine.Operation{ClientId: c, Input: in, Call: call, Return: ret, Metadata: i}, point: point, apply: r.IntN(2) == 0})
	}
	order := make([]int, len(plan))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(plan[a].point - plan[b].point) })
	var f fakeStream
	ms := uint64(0)
	add := func(payload string) ID { // IDs with gaps, some in the same ms
		ms += uint64(r.IntN(2))
		id := ID{Ms: ms, Seq: uint64(len(f.log)) + 1}
		f.log = append(f.log, Entry{ID: id, Payload: payload})
		return id
	}
	for _, i := range order {
		p := &plan[i]
		in := p.op.Input.(Input)
		switch {
		case in.Op == OpXAdd && r.IntN(4) == 0: // outcome unknown
			if p.apply {
				add(in.Payload)
			} else {
				p.point = -1
			}
			p.op.Output, p.op.Return = Output{Unknown: true}, Infinity
		case in.Op == OpXAdd:
			p.op.Output = Output{ID: add(in.Payload)}
		default:
			p.op.Output = f.do(in)
		}
	}
	ops, points = make([]porcupine.Operation, len(plan)), make([]int64, len(plan))
	for i, p := range plan {
		ops[i], points[i] = p.op, p.point
	}
	if corrupt {
		corruptOne(r, ops)
	}
	return ops, points
}

// corruptOne changes one operation of ops at random.
func corruptOne(r *rand.Rand, ops []porcupine.Operation) {
	i := r.IntN(len(ops))
	op := &ops[i]
	out := op.Output.(Output)
	if out.Unknown {
		op.Call += r.Int64N(20) // may start after a read that shows it
		return
	}
	switch op.Input.(Input).Op {
	case OpXAdd:
		out.ID = ID{Ms: uint64(r.IntN(5)), Seq: uint64(r.IntN(len(ops)))}
	case OpXLen:
		out.Len += 1 - 2*r.IntN(2)
	default:
		es := slices.Clone(out.Entries)
		switch {
		case len(es) > 0 && r.IntN(2) == 0:
			j := r.IntN(len(es))
			es = slices.Delete(es, j, j+1)
		case len(es) > 1:
			es[0], es[1] = es[1], es[0]
		default:
			es = append(es, Entry{ID: ID{Ms: 99}, Payload: fmt.Sprintf("p%d", r.IntN(len(ops)))})
		}
		out.Entries = es
	}
	op.Output = out
}

// TestNarrowKeepsVerdict checks that narrowing is exact: on random
// histories, linearizable and not, Check agrees with porcupine run on the
// history as recorded.
func TestNarrowKeepsVerdict(t *testing.T) {
	const histories, opsPerHistory = 3000, 9
	r := rand.New(rand.NewPCG(1, 2))
	var got = map[porcupine.CheckResult]int{}
	for h := range histories {
		ops, _ := randomHistory(r, opsPerHistory, h%2 == 1)
		want := porcupine.CheckOperationsTimeout(StreamModel(), ops, checkTimeout)
		res := Check(ops, checkTimeout)
		got[res.Outcome]++
		if res.Outcome != want || want == porcupine.Unknown {
			t.Errorf("history %d: Check() = %s; porcupine on the recorded history says %s", h, res, want)
			for _, op := range ops {
				t.Logf("  c%d [%d, %s] %s", op.ClientId, op.Call, describeTime(op.Return), describe(op.Input.(Input), op.Output.(Output)))
			}
			return
		}
	}
	if got[porcupine.Ok] < histories/4 || got[porcupine.Illegal] < histories/4 {
		t.Errorf("verdicts %v over %d histories; want both Ok and Illegal often", got, histories)
	}
}

// TestNarrowKeepsPoints checks that narrowing keeps, on random
// linearizable histories, the point at which each operation took effect.
func TestNarrowKeepsPoints(t *testing.T) {
	const histories, opsPerHistory = 3000, 12
	r := rand.New(rand.NewPCG(3, 4))
	for h := range histories {
		ops, points := randomHistory(r, opsPerHistory, false)
		narrowed, _ := narrow(ops)
		for _, op := range narrowed {
			i := op.Metadata.(int)
			if p := points[i]; p >= 0 && (p < op.Call || p > op.Return) {
				t.Errorf("history %d: narrowed %s to [%d, %s], without the point %d where it took effect",
					h, describe(op.Input.(Input), op.Output.(Output)), op.Call, describeTime(op.Return), p)
				for _, op := range ops {
					t.Logf("  c%d [%d, %s] at %d: %s", op.ClientId, op.Call, describeTime(op.Return), points[op.Metadata.(int)], describe(op.Input.(Input), op.Output.(Output)))
				}
				return
			}
		}
	}
}

// TestNarrowChainsWrites checks that narrow tells each write which write
// precedes it, inferred IDs included, so the model never skips one.
func TestNarrowChainsWrites(t *testing.T) {
	ops := []porcupine.Operation{
		op(0, 0, 1, XAdd("k", "a"), added("1-0")),
		op(0, 2, 3, XAdd("k", "b"), added("3-0")),
		unknownAdd(1, 0, "k", "c"),
		op(2, 4, 5, XRange("k"), entries("1-0 a", "2-0 c", "3-0 b")),
		op(0, 0, 1, XAdd("other", "x"), added("9-0")),
	}
	narrowed, _ := narrow(ops)
	want := map[string]ID{"a": {}, "c": {Ms: 1}, "b": {Ms: 2}, "x": {}}
	for _, op := range narrowed {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Op != OpXAdd {
			continue
		}
		if !out.ordered || out.pred != want[in.Payload] {
			t.Errorf("narrowed %s: ordered, pred = %t, %s; want true, %s", describe(in, out), out.ordered, out.pred, want[in.Payload])
		}
		if s, ok := step(nil, in, out); ok != (want[in.Payload] == ID{}) {
			t.Errorf("step(empty, %s) = %s, %t; want %t", describe(in, out), describeState(s), ok, want[in.Payload] == ID{})
		}
	}
}
