package fsm

import (
	"fmt"
	"testing"
)

func TestTrim(t *testing.T) {
	fill := func() *Machine {
		m := New()
		for i := 0; i < 350; i++ {
			do(m, 0, args(fmt.Sprintf("XADD s %d-%d f v", 1+i/10, i%10)))
		}
		return m
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"maxlen exact", []step{
			{0, "XTRIM s MAXLEN 200", ":150"},
			{0, "XRANGE s - + COUNT 1", "[[16-0 [f v]]]"},
			{0, "XTRIM s MAXLEN = 200", ":0"},
			{0, "XTRIM s MAXLEN 0", ":200"},
			{0, "EXISTS s", ":1"},
		}},
		{"maxlen approx removes whole blocks", []step{
			{0, "XTRIM s MAXLEN ~ 200", ":100"},
			{0, "XLEN s", ":250"},
			{0, "XTRIM s MAXLEN ~ 151", ":0"},
			{0, "XTRIM s MAXLEN ~ 150", ":100"},
			{0, "XTRIM s MAXLEN ~ 0", ":150"},
		}},
		{"limit", []step{
			{0, "XTRIM s MAXLEN ~ 0 LIMIT 150", ":100"},
			{0, "XTRIM s MAXLEN ~ 0 LIMIT 99", ":0"},
			{0, "XTRIM s MAXLEN ~ 0 LIMIT 0", ":250"},
		}},
		{"minid", []step{
			{0, "XTRIM s MINID 5", ":40"},
			{0, "XTRIM s MINID ~ 20-5", ":60"},
			{0, "XTRIM s MINID = 25-5", ":145"},
			{0, "XRANGE s - + COUNT 1", "[[25-5 [f v]]]"},
			{0, "XTRIM s MINID 1000", ":105"},
		}},
		{"xadd trims after the insert", []step{
			{0, "XADD s MAXLEN 10 100-0 a b", "100-0"},
			{0, "XLEN s", ":10"},
			{0, "XADD s MINID 36 101-0 a b", "101-0"},
			{0, "XRANGE s - + COUNT 2", "[[100-0 [a b]] [101-0 [a b]]]"},
		}},
		{"errors", []step{
			{0, "XTRIM s LIMIT 5", "-" + errLimitNoStrat},
			{0, "XTRIM s LIMIT 0", "-" + errXTrimNoStrat},
			{0, "XTRIM s MAXLEN 1 LIMIT 5", "-" + errLimitNoApprox},
			{0, "XTRIM s MAXLEN 1 MAXLEN 2", "-" + errMaxlenMinid},
			{0, "XTRIM s MAXLEN 5 ~", "-" + errSyntax},
			{0, "XTRIM s MAXLEN ~", "-" + errNotInt},
			{0, "XTRIM s MINID ~", "-" + errInvalidID},
			{0, "XTRIM nokey MAXLEN 0", ":0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, fill(), tt.steps) })
	}
}
