package fsm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDiffRedisRandom drives the Machine and a real redis-server with the
// same random stream commands (explicit IDs, so no clock is involved) and
// compares every reply byte for byte.
func TestDiffRedisRandom(t *testing.T) {
	rc := startRedis(t)
	rc.do(t, args("FLUSHALL"))
	m := New()
	r := rand.New(rand.NewPCG(1, 2))
	steps := 20000
	if testing.Short() {
		steps = 3000
	}
	for i := 0; i < steps; i++ {
		diffStep(t, rc, m, 1000, i, randomCommand(r, i/15))
		if i%250 == 0 {
			checkInvariants(t, m)
		}
	}
	checkInvariants(t, m)
	for _, k := range []string{"s", "t", "u"} {
		if s, ok := m.keys[k]; ok {
			t.Logf("%s: length %d, blocks %d, last %v", k, s.length, s.blocks.Len(), s.lastID)
		}
	}
}

func randomID(r *rand.Rand, now int) string {
	switch r.IntN(10) {
	case 0:
		return fmt.Sprint(r.IntN(now + 2))
	case 1:
		return "-"
	case 2:
		return "+"
	case 3:
		return fmt.Sprintf("(%d-%d", r.IntN(now+2), r.IntN(12))
	}
	return fmt.Sprintf("%d-%d", r.IntN(now+2), r.IntN(12))
}

func randomCommand(r *rand.Rand, now int) string {
	key := []string{"s", "t", "u"}[r.IntN(3)]
	fields := []string{"f1 a f2 b", "f1 c f2 d", "x y", "f1 a f2 b f3 c"}[r.IntN(4)]
	switch n := r.IntN(100); {
	case n < 45:
		id := fmt.Sprintf("%d-%d", now+r.IntN(3), r.IntN(12))
		if r.IntN(5) == 0 {
			id = fmt.Sprintf("%d-*", now+r.IntN(2))
		}
		trim := ""
		switch r.IntN(16) {
		case 0:
			trim = fmt.Sprintf("MAXLEN %d ", 50+r.IntN(500))
		case 1:
			trim = fmt.Sprintf("MAXLEN ~ %d ", 50+r.IntN(500))
		case 2:
			trim = fmt.Sprintf("MINID ~ %d ", now-100-r.IntN(300))
		case 3:
			trim = fmt.Sprintf("MAXLEN ~ %d LIMIT %d ", 50+r.IntN(500), r.IntN(220))
		}
		return fmt.Sprintf("XADD %s %s%s %s", key, trim, id, fields)
	case n < 55:
		return fmt.Sprintf("XDEL %s %d-%d %d-%d", key, r.IntN(now+2), r.IntN(12), r.IntN(now+2), r.IntN(12))
	case n < 60:
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("XTRIM %s MAXLEN %d", key, 150+r.IntN(400))
		case 1:
			return fmt.Sprintf("XTRIM %s MAXLEN ~ %d LIMIT %d", key, 150+r.IntN(400), r.IntN(200))
		case 2:
			return fmt.Sprintf("XTRIM %s MINID %d-%d", key, now-100-r.IntN(300), r.IntN(12))
		}
		return fmt.Sprintf("XTRIM %s MINID ~ %d", key, now-100-r.IntN(300))
	case n < 72:
		cmd := "XRANGE"
		if r.IntN(2) == 0 {
			cmd = "XREVRANGE"
		}
		count := ""
		if r.IntN(2) == 0 {
			count = fmt.Sprintf(" COUNT %d", r.IntN(30)-2)
		}
		return fmt.Sprintf("%s %s %s %s%s", cmd, key, randomID(r, now), randomID(r, now), count)
	case n < 82:
		return fmt.Sprintf("XREAD COUNT %d STREAMS s %s %d-%d %d", r.IntN(20), key, r.IntN(now+2), r.IntN(12), r.IntN(now+2))
	case n < 86:
		return "XLEN " + key
	case n < 89:
		return fmt.Sprintf("XSETID %s %d-%d", key, r.IntN(70), r.IntN(12))
	case n < 90:
		if r.IntN(8) == 0 {
			return "DEL " + key
		}
		return "XLEN " + key
	case n < 93:
		return "EXISTS s t u " + key
	case n < 95:
		return "TYPE " + key
	case n < 96:
		return "DBSIZE"
	}
	return fmt.Sprintf("XREAD STREAMS %s $", key)
}
