package fsm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestDiffRedisGroupsRandom drives the Machine and a real redis-server with
// the same random mix of stream and consumer-group commands and compares
// every reply (time fields normalised as in TestDiffRedisGroups).
func TestDiffRedisGroupsRandom(t *testing.T) {
	rc := startRedis(t)
	rc.do(t, args("FLUSHALL"))
	m := New()
	r := rand.New(rand.NewPCG(3, 9))
	steps := 15000
	if testing.Short() {
		steps = 3000
	}
	for i := 0; i < steps; i++ {
		diffStep(t, rc, m, time.Now().UnixMilli(), i, randomGroupCommand(r, i/10))
		if i%100 == 0 {
			checkInvariants(t, m)
			checkGroupInvariants(t, m)
		}
	}
}

func randomGroupCommand(r *rand.Rand, now int) string {
	key := []string{"s", "t"}[r.IntN(2)]
	grp := []string{"g1", "g2", "g3"}[r.IntN(3)]
	con := []string{"a", "b", "c", "d"}[r.IntN(4)]
	rid := func() string { return fmt.Sprintf("%d-%d", r.IntN(now+2), r.IntN(10)) }
	count := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return fmt.Sprintf("COUNT %d ", r.IntN(12))
	}
	switch n := r.IntN(100); {
	case n < 30:
		return fmt.Sprintf("XADD %s %d-%d f %d", key, now+r.IntN(2), r.IntN(10), n)
	case n < 36:
		return fmt.Sprintf("XDEL %s %s %s", key, rid(), rid())
	case n < 38:
		return fmt.Sprintf("XTRIM %s MAXLEN %d", key, 20+r.IntN(200))
	case n < 41:
		ids := []string{"0", "$", rid(), "-"}
		return fmt.Sprintf("XGROUP CREATE %s %s %s MKSTREAM", key, grp, ids[r.IntN(len(ids))])
	case n < 43:
		ids := []string{"0", "$", rid(), "+"}
		er := ""
		if r.IntN(3) == 0 {
			er = fmt.Sprintf(" ENTRIESREAD %d", r.IntN(now+2)-1)
		}
		return fmt.Sprintf("XGROUP SETID %s %s %s%s", key, grp, ids[r.IntN(len(ids))], er)
	case n < 44:
		return fmt.Sprintf("XGROUP DESTROY %s %s", key, grp)
	case n < 45:
		return fmt.Sprintf("XGROUP CREATECONSUMER %s %s %s", key, grp, con)
	case n < 46:
		return fmt.Sprintf("XGROUP DELCONSUMER %s %s %s", key, grp, con)
	case n < 60:
		noack := ""
		if r.IntN(6) == 0 {
			noack = "NOACK "
		}
		id := ">"
		if r.IntN(4) == 0 {
			id = []string{"0", rid()}[r.IntN(2)]
		}
		if r.IntN(5) == 0 {
			return fmt.Sprintf("XREADGROUP GROUP %s %s %s%sSTREAMS s t %s >", grp, con, count(), noack, id)
		}
		return fmt.Sprintf("XREADGROUP GROUP %s %s %s%sSTREAMS %s %s", grp, con, count(), noack, key, id)
	case n < 68:
		return fmt.Sprintf("XACK %s %s %s %s %s", key, grp, rid(), rid(), rid())
	case n < 74:
		opts := []string{"", " JUSTID", " FORCE", " RETRYCOUNT 5", fmt.Sprintf(" LASTID %s", rid()), " FORCE JUSTID"}
		return fmt.Sprintf("XCLAIM %s %s %s 0 %s %s%s", key, grp, con, rid(), rid(), opts[r.IntN(len(opts))])
	case n < 79:
		just := ""
		if r.IntN(3) == 0 {
			just = " JUSTID"
		}
		return fmt.Sprintf("XAUTOCLAIM %s %s %s 0 %s COUNT %d%s", key, grp, con, rid(), 1+r.IntN(8), just)
	case n < 85:
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("XPENDING %s %s", key, grp)
		case 1:
			return fmt.Sprintf("XPENDING %s %s - + %d", key, grp, r.IntN(20))
		}
		return fmt.Sprintf("XPENDING %s %s %s + %d %s", key, grp, rid(), r.IntN(20), con)
	case n < 90:
		return "XINFO GROUPS " + key
	case n < 93:
		return "XINFO STREAM " + key
	case n < 95:
		return fmt.Sprintf("XINFO STREAM %s FULL COUNT %d", key, r.IntN(6))
	case n < 97:
		return fmt.Sprintf("XINFO CONSUMERS %s %s", key, grp)
	case n < 98:
		if r.IntN(4) == 0 {
			return "DEL " + key
		}
	}
	return "XLEN " + key
}
