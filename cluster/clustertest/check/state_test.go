package check

import (
	"math/bits"
	"testing"
)

// TestJumps checks the jump pointers on a long list: at and lastAtMost
// find every node, in O(log n) hops.
func TestJumps(t *testing.T) {
	const n = 5000
	var list *node
	for i := 1; i <= n; i++ {
		var ok bool
		if list, ok = push(list, slot{payload: "p", known: true, id: ID{Ms: uint64(2 * i)}}); !ok {
			t.Fatalf("push #%d rejected", i)
		}
	}
	maxHops := 4 * bits.Len(n)
	for want := 0; want <= n; want++ {
		got, hops := list, 0
		for got.len() > want {
			if got.jump.len() >= want {
				got = got.jump
			} else {
				got = got.prev
			}
			hops++
		}
		if at := list.at(want); at != got || at.len() != want {
			t.Fatalf("at(%d) has length %d; want %d", want, at.len(), want)
		}
		if hops > maxHops {
			t.Errorf("at(%d) took %d hops; want at most %d", want, hops, maxHops)
		}
		// Entry i has ID (2i)-0, so the first want entries are those up
		// to (2want)-0 and also those up to (2want+1)-0.
		for _, id := range []ID{{Ms: uint64(2 * want)}, {Ms: uint64(2*want + 1)}} {
			if got := list.lastAtMost(id).len(); got != want {
				t.Errorf("lastAtMost(%s) has length %d; want %d", id, got, want)
			}
		}
	}
}
