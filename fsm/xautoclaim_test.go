package fsm

import "testing"

func TestXAutoClaim(t *testing.T) {
	m := New()
	runSteps(t, m, []step{
		{1, "XAUTOCLAIM s g c 0", "-ERR wrong number of arguments for 'xautoclaim' command"},
		{1, "XAUTOCLAIM s g c x 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM"},
		{1, "XAUTOCLAIM s g c 0 x", "-" + errInvalidID},
		{1, "XAUTOCLAIM s g c 0 (18446744073709551615-18446744073709551615", "-" + errInvalidStart},
		{1, "XAUTOCLAIM s g c 0 0 COUNT 0", "-ERR COUNT must be > 0"},
		{1, "XAUTOCLAIM s g c 0 0 COUNT 576460752303423488", "-ERR COUNT must be > 0"},
		{1, "XAUTOCLAIM s g c 0 0 COUNT", "-" + errSyntax},
		{1, "XAUTOCLAIM s g c 0 0 FOO", "-" + errSyntax},
		{1, "XAUTOCLAIM s g c 0 0", "-NOGROUP No such key 's' or consumer group 'g'"},
		{1, "XADD s 1-1 a 1", "1-1"},
		{1, "XADD s 1-2 a 2", "1-2"},
		{1, "XADD s 1-3 a 3", "1-3"},
		{1, "XADD s 1-4 a 4", "1-4"},
		{1, "XADD s 1-5 a 5", "1-5"},
		{1, "XGROUP CREATE s g 0", "+OK"},
		{1, "XAUTOCLAIM s g c 0 0 COUNT 576460752303423487", "-ERR Insufficient memory, failed allocating transient memory, COUNT too high."},
		{1, "XAUTOCLAIM s g c 0 0", "[0-0 [] []]"},
		{100, "XREADGROUP GROUP g bob STREAMS s >", "{s:[[1-1 [a 1]] [1-2 [a 2]] [1-3 [a 3]] [1-4 [a 4]] [1-5 [a 5]]]}"},
		{150, "XAUTOCLAIM s g alice 60 0", "[0-0 [] []]"},
		{150, "XINFO CONSUMERS s g", "[{name:bob pending::5 idle::50 inactive::50}]"},
		{150, "XAUTOCLAIM s g alice 50 0 COUNT 2", "[1-3 [[1-1 [a 1]] [1-2 [a 2]]] []]"},
		{150, "XAUTOCLAIM s g alice 50 1-3 COUNT 2 JUSTID", "[1-5 [1-3 1-4] []]"},
		{150, "XDEL s 1-1 1-5", ":2"},
		{150, "XAUTOCLAIM s g carol 0 - COUNT 1", "[1-2 [] [1-1]]"},
		{150, "XAUTOCLAIM s g carol 0 (1-2", "[0-0 [[1-3 [a 3]] [1-4 [a 4]]] [1-5]]"},
		{150, "XPENDING s g - + 10", "[[1-2 alice :0 :2] [1-3 carol :0 :2] [1-4 carol :0 :2]]"},
		// The scan looks at 10 x COUNT entries at most.
		{150, "XAUTOCLAIM s g dave 9999 - COUNT 1", "[0-0 [] []]"},
	})
	for i := 0; i < 30; i++ {
		do(m, 200, args("XADD s * f v"))
	}
	do(m, 200, args("XREADGROUP GROUP g bob STREAMS s >"))
	want := "[200-7 [] []]" // 3 old + 7 new entries scanned, none idle enough
	if got := compact(do(m, 200, args("XAUTOCLAIM s g dave 9999 - COUNT 1"))); got != want {
		t.Fatalf("XAUTOCLAIM scan limit = %s; want %s", got, want)
	}
}
