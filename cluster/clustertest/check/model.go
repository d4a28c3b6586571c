package check

import (
	"fmt"
	"slices"

	"github.com/anishathalye/porcupine"
)

// learn matches a read's entries against slots: payloads must be equal and
// known IDs too; unknown IDs become the ones the read shows. It changes
// slots in place.
func learn(got []Entry, slots []slot) bool {
	if len(got) != len(slots) {
		return false
	}
	for i, e := range got {
		s := &slots[i]
		switch {
		case s.anon || s.payload != e.Payload:
			return false
		case s.known && s.id != e.ID:
			return false
		case !s.known:
			if s.hi.Less(e.ID) {
				return false
			}
			*s = slot{payload: s.payload, known: true, id: e.ID}
		}
	}
	return true
}

// atMost bounds s's ID by hi: a known ID must not exceed it, an unknown
// one is bounded from now on. It changes s in place.
func atMost(s *slot, hi ID) bool {
	if s.known {
		return !hi.Less(s.id)
	}
	if hi.Less(s.hi) {
		s.hi = hi
	}
	return true
}

// step applies one operation to a log; it fails if the log cannot have
// given that output. It never changes state.
func step(state *node, in Input, out Output) (*node, bool) {
	switch in.Op {
	case OpXAdd:
		switch {
		case out.unseen:
			return push(state, slot{anon: true, hi: maxID})
		case out.Unknown && out.ID == ID{}:
			return push(state, slot{payload: in.Payload, hi: maxID})
		case out.ordered && state.lastKnown() != out.pred:
			return nil, false
		}
		return push(state, slot{payload: in.Payload, known: true, id: out.ID})
	case OpXLen:
		return state, state.len() == out.Len
	case OpXRange:
		return stepXRange(state, out)
	case OpXRead:
		if state.len() > 0 && state.open == 0 {
			return stepXReadKnown(state, in, out)
		}
		return stepXRead(state, in, out)
	}
	panic(fmt.Sprintf("check: operation has unknown op %d", in.Op))
}

// stepXRange checks that an XRANGE returned the whole log. When every ID
// is known, a hash that narrow computed beforehand turns most mismatches
// away in one step.
func stepXRange(state *node, out Output) (*node, bool) {
	switch {
	case state.len() != len(out.Entries):
		return nil, false
	case state == nil:
		return nil, true
	}
	if state.open == 0 {
		if out.summed && out.sum != state.hash {
			return nil, false
		}
		return state, state.matches(out.Entries)
	}
	nodes, slots := state.unpack()
	if !learn(out.Entries, slots) {
		return nil, false
	}
	return rebuild(nodes, slots)
}

// stepXReadKnown is stepXRead for a log whose IDs are all known, in
// O(log n + len(out.Entries)) steps.
func stepXReadKnown(state *node, in Input, out Output) (*node, bool) {
	skip := state.lastAtMost(in.After).len()
	want := state.len() - skip
	if in.Count > 0 {
		want = min(want, in.Count)
	}
	if len(out.Entries) != want {
		return nil, false
	}
	return state, state.at(skip + want).matches(out.Entries)
}

// stepXRead checks an XREAD against the log. The entries with an ID after
// in.After are a suffix of the log, since IDs increase; the read must
// return the first in.Count of them. Where unknown IDs make the suffix's
// start ambiguous, the read decides it, and the model keeps what that
// implies: the IDs it shows, and that the entry before its first one (or
// the last entry, for an empty read) has an ID of at most in.After. A read
// is rejected only when no assignment of the unknown IDs fits.
func stepXRead(state *node, in Input, out Output) (*node, bool) {
	got := out.Entries
	nodes, slots := state.unpack()
	if len(got) == 0 {
		if len(slots) == 0 {
			return state, true
		}
		if !atMost(&slots[len(slots)-1], in.After) {
			return nil, false
		}
		return rebuild(nodes, slots)
	}
	if !in.After.Less(got[0].ID) {
		return nil, false
	}
	first := slices.IndexFunc(slots, func(s slot) bool { return !s.anon && s.payload == got[0].Payload })
	if first < 0 {
		return nil, false
	}
	want := slots[first:]
	if in.Count > 0 && len(want) > in.Count {
		want = want[:in.Count]
	}
	if !learn(got, want) {
		return nil, false
	}
	if first > 0 && !atMost(&slots[first-1], in.After) {
		return nil, false
	}
	return rebuild(nodes, slots)
}

func asInput(v any) Input {
	in, ok := v.(Input)
	if !ok {
		panic(fmt.Sprintf("check: operation input is %T, want check.Input", v))
	}
	return in
}

func asOutput(v any) Output {
	out, ok := v.(Output)
	if !ok {
		panic(fmt.Sprintf("check: operation output is %T, want check.Output", v))
	}
	return out
}

// StreamModel is the porcupine model of the streams: one append-only log
// per key, partitioned by key. Operations carry Input and Output values.
// Check uses it; it is exported for callers that drive porcupine directly.
func StreamModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
			_, parts := partitionByKey(ops)
			return parts
		},
		Init: func() any { return (*node)(nil) },
		Step: func(state, input, output any) (bool, any) {
			next, ok := step(state.(*node), asInput(input), asOutput(output))
			if !ok {
				return false, state
			}
			return true, next
		},
		Equal: func(a, b any) bool { return equalStates(a.(*node), b.(*node)) },
		Hash: func(state any) uint64 {
			if n := state.(*node); n != nil {
				return n.hash
			}
			return 0
		},
		DescribeOperation: func(input, output any) string {
			return describe(asInput(input), asOutput(output))
		},
		DescribeState: func(state any) string { return describeState(state.(*node)) },
	}
}
