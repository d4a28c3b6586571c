package check

import (
	"fmt"
	"testing"
)

// build runs steps from the empty stream and fails the test if one is
// rejected.
func build(t *testing.T, steps ...act) *node {
	t.Helper()
	var s *node
	for _, st := range steps {
		next, ok := step(s, st.in, st.out)
		if !ok {
			t.Fatalf("step(%s, %s) rejected", describeState(s), describe(st.in, st.out))
		}
		s = next
	}
	return s
}

// act is one operation applied to the model.
type act struct {
	in  Input
	out Output
}

func addOK(payload, id string) act { return act{XAdd("k", payload), added(id)} }
func addUnknown(payload string) act {
	return act{XAdd("k", payload), Output{Unknown: true}}
}
func rangeOK(es ...string) act { return act{XRange("k"), entries(es...)} }
func readOK(after string, es ...string) act {
	return act{XRead("k", MustParseID(after), 0), entries(es...)}
}

func TestEqualStates(t *testing.T) {
	tests := []struct {
		name string
		a, b []act
		want bool
	}{
		{name: "empty", want: true},
		{name: "same writes", a: []act{addOK("x", "1-0")}, b: []act{addOK("x", "1-0")}, want: true},
		{name: "other id", a: []act{addOK("x", "1-0")}, b: []act{addOK("x", "2-0")}},
		{name: "other payload", a: []act{addOK("x", "1-0")}, b: []act{addOK("y", "1-0")}},
		{name: "other order", a: []act{addUnknown("x"), addUnknown("y")}, b: []act{addUnknown("y"), addUnknown("x")}},
		{name: "longer", a: []act{addOK("x", "1-0")}, b: []act{addOK("x", "1-0"), addOK("y", "2-0")}},
		{
			name: "learned id equals answered id",
			a:    []act{addUnknown("x"), rangeOK("1-0 x")},
			b:    []act{addOK("x", "1-0")},
			want: true,
		},
		{name: "unknown id differs from a known one", a: []act{addUnknown("x")}, b: []act{addOK("x", "1-0")}},
		{
			name: "bounded differs from unbounded",
			a:    []act{addUnknown("x"), readOK("5-0")},
			b:    []act{addUnknown("x")},
		},
		{
			name: "same bound from different reads",
			a:    []act{addUnknown("x"), readOK("9-0"), readOK("5-0")},
			b:    []act{addUnknown("x"), readOK("5-0"), readOK("7-0")},
			want: true,
		},
	}
	model := StreamModel()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := build(t, tt.a...), build(t, tt.b...)
			if got := model.Equal(a, b); got != tt.want {
				t.Errorf("Equal(%s, %s) = %t; want %t", describeState(a), describeState(b), got, tt.want)
			}
			if got := model.Equal(b, a); got != tt.want {
				t.Errorf("Equal(%s, %s) = %t; want %t", describeState(b), describeState(a), got, tt.want)
			}
			if tt.want && model.Hash(a) != model.Hash(b) {
				t.Errorf("Hash(%s) = %x, Hash(%s) = %x; want equal states to hash alike",
					describeState(a), model.Hash(a), describeState(b), model.Hash(b))
			}
		})
	}
}

// TestStepPure checks that steps never change the state they start from:
// porcupine steps the same state many times.
func TestStepPure(t *testing.T) {
	base := build(t, addOK("a", "1-0"), addUnknown("u"))
	before := describeState(base)

	learned := build(t, addOK("a", "1-0"), addUnknown("u"), rangeOK("1-0 a", "4-0 u"))
	if got, ok := step(base, XRange("k"), entries("1-0 a", "4-0 u")); !ok || !equalStates(got, learned) {
		t.Errorf("XRANGE on %s = %s, %t; want %s", before, describeState(got), ok, describeState(learned))
	}
	if _, ok := step(base, XRead("k", MustParseID("2-0"), 0), entries()); !ok {
		t.Errorf("empty XREAD after 2-0 on %s rejected; want a bound on u", before)
	}
	x, _ := step(base, XAdd("k", "x"), added("5-0"))
	y, _ := step(base, XAdd("k", "y"), added("6-0"))
	if got := describeState(base); got != before {
		t.Errorf("after steps, state = %s; want %s unchanged", got, before)
	}
	if got, want := describeState(x), "[1-0 a, ? u, 5-0 x]"; got != want {
		t.Errorf("XADD x on %s = %s; want %s", before, got, want)
	}
	if got, want := describeState(y), "[1-0 a, ? u, 6-0 y]"; got != want {
		t.Errorf("XADD y on %s = %s; want %s", before, got, want)
	}
}

func TestDescribe(t *testing.T) {
	var es []string
	for i := range 20 {
		es = append(es, fmt.Sprintf("%d-0 p", i+1))
	}
	tests := []struct {
		in   Input
		out  Output
		want string
	}{
		{XAdd("k", "p"), added("1-2"), "XADD k p -> 1-2"},
		{XAdd("k", "p"), Output{Unknown: true}, "XADD k p -> ?"},
		{XLen("k"), length(3), "XLEN k -> 3"},
		{XRange("k"), entries(), "XRANGE k -> []"},
		{XRead("k", ID{5, 1}, 2), entries("6-0 a", "7-0 b"), "XREAD COUNT 2 k 5-1 -> [6-0 a, 7-0 b]"},
		{XRead("k", ID{}, 0), entries("6-0 a"), "XREAD k 0-0 -> [6-0 a]"},
		{
			XRange("k"), entries(es...),
			"XRANGE k -> [1-0 p, 2-0 p, 3-0 p, ...8 more..., 12-0 p, 13-0 p, 14-0 p, 15-0 p, 16-0 p, 17-0 p, 18-0 p, 19-0 p, 20-0 p]",
		},
	}
	for _, tt := range tests {
		if got := describe(tt.in, tt.out); got != tt.want {
			t.Errorf("describe(%+v, %+v) = %q; want %q", tt.in, tt.out, got, tt.want)
		}
	}
}
