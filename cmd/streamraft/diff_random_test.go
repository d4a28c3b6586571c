package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Randomized differential test: a seeded sequence of stream commands with
// random arguments runs against redis-server and the target, and every
// reply must be identical. STREAMRAFT_DIFF_SEED replays one seed;
// STREAMRAFT_DIFF_RANDOM_N sets the number of commands.

// randomCommands is the default length of the sequence: enough for streams
// of several 100-entry nodes, so approximate trimming is exercised.
const randomCommands = 2000

func TestDiffRandom(t *testing.T) {
	seed := uint64(1)
	if v := os.Getenv("STREAMRAFT_DIFF_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("STREAMRAFT_DIFF_SEED=%q: %v", v, err)
		}
		seed = s
	}
	n := randomCommands
	if v := os.Getenv("STREAMRAFT_DIFF_RANDOM_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("STREAMRAFT_DIFF_RANDOM_N=%q: %v", v, err)
		}
	}
	ref := startRedisCluster(t)
	var target *process
	if os.Getenv("STREAMRAFT_DIFF_TARGET") == "redis" {
		target = startRedisCluster(t)
		target.name = "redis2"
	} else {
		target = startStreamraft(t, buildBinary(t), "--shards", fmt.Sprint(diffShards))
	}
	r := &diffRunner{t: t, script: fmt.Sprintf("random(seed %d)", seed), servers: [2]*process{ref, target},
		proto: 2, conns: map[string]*connPair{}, cur: "1"}
	defer r.closeAll()
	r.flushAll()
	g := &cmdGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), next: map[string]uint64{}}
	var history []string
	for i := 1; i <= n; i++ {
		cmd := g.command()
		history = append(history, showCmd(cmd))
		r.command(scriptStep{line: i, cmd: cmd})
		if t.Failed() {
			from := max(0, len(history)-10)
			t.Fatalf("stopped at command %d (seed %d); the last commands were:\n  %s", i, seed, strings.Join(history[from:], "\n  "))
		}
	}
}

// cmdGen generates random stream commands over a few keys, with mostly
// valid, increasing IDs so streams grow.
type cmdGen struct {
	rng  *rand.Rand
	next map[string]uint64 // per key: the next ms likely to be accepted
}

// randomKeys share a hash tag, so XREAD and EXISTS over two of them stay
// valid against a Redis Cluster and a sharded streamraft.
var randomKeys = []string{"{r}1", "{r}2"}

func (g *cmdGen) key() string { return randomKeys[g.rng.IntN(len(randomKeys))] }

// id returns a random ID near the key's current range.
func (g *cmdGen) id(key string) string {
	hi := g.next[key] + 2
	ms := g.rng.Uint64N(hi + 1)
	switch g.rng.IntN(4) {
	case 0:
		return strconv.FormatUint(ms, 10)
	default:
		return fmt.Sprintf("%d-%d", ms, g.rng.IntN(3))
	}
}

// bound returns a random XRANGE bound.
func (g *cmdGen) bound(key string, low bool) string {
	switch g.rng.IntN(6) {
	case 0:
		if low {
			return "-"
		}
		return "+"
	case 1:
		return "(" + g.id(key)
	default:
		return g.id(key)
	}
}

// trim returns random trimming arguments (possibly none for XADD). The
// thresholds keep streams long enough to span several 100-entry nodes.
func (g *cmdGen) trim(key string, xtrim bool) []string {
	if !xtrim && g.rng.IntN(4) > 0 {
		return nil
	}
	approx := g.rng.IntN(2) == 0
	strategy := "MAXLEN"
	if g.rng.IntN(4) == 0 {
		strategy = "MINID"
	}
	args := []string{strategy}
	if approx {
		args = append(args, "~")
	} else if g.rng.IntN(2) == 0 {
		args = append(args, "=")
	}
	if strategy == "MAXLEN" {
		args = append(args, strconv.Itoa(20+g.rng.IntN(300)))
	} else {
		args = append(args, strconv.FormatUint(g.rng.Uint64N(g.next[key]/2+1), 10))
	}
	if approx && g.rng.IntN(3) == 0 {
		args = append(args, "LIMIT", strconv.Itoa(g.rng.IntN(250)))
	}
	return args
}

// command returns the next random command.
func (g *cmdGen) command() []string {
	k := g.key()
	switch p := g.rng.IntN(200); {
	case p < 140:
		return g.xadd(k)
	case p < 150:
		ids := []string{"XDEL", k}
		for i := 0; i <= g.rng.IntN(4); i++ {
			ids = append(ids, g.id(k))
		}
		return ids
	case p < 156:
		return append([]string{"XTRIM", k}, g.trim(k, true)...)
	case p < 172:
		cmd := []string{"XRANGE", k, g.bound(k, true), g.bound(k, false)}
		if g.rng.IntN(2) == 0 {
			cmd = []string{"XREVRANGE", k, g.bound(k, false), g.bound(k, true)}
		}
		if g.rng.IntN(2) == 0 {
			cmd = append(cmd, "COUNT", strconv.Itoa(g.rng.IntN(12)-1))
		}
		return cmd
	case p < 184:
		k2 := g.key()
		return []string{"XREAD", "COUNT", strconv.Itoa(g.rng.IntN(5) + 1), "STREAMS", k, k2, g.id(k), g.id(k2)}
	case p < 190:
		return []string{"XLEN", k}
	case p < 191:
		return []string{"DEL", k}
	case p < 194:
		return []string{"EXISTS", k, g.key()}
	case p < 196:
		return []string{"XSETID", k, g.id(k)}
	default:
		// A full read: any divergence in the stored entries shows here.
		return []string{"XRANGE", k, "-", "+"}
	}
}

// xadd returns a random XADD, usually with an acceptable ID.
func (g *cmdGen) xadd(k string) []string {
	cmd := []string{"XADD", k}
	if g.rng.IntN(10) == 0 {
		cmd = append(cmd, "NOMKSTREAM")
	}
	cmd = append(cmd, g.trim(k, false)...)
	var id string
	switch p := g.rng.IntN(10); {
	case p < 6:
		g.next[k]++
		id = fmt.Sprintf("%d-%d", g.next[k], g.rng.IntN(3))
	case p < 8:
		id = fmt.Sprintf("%d-*", g.next[k])
	default:
		id = g.id(k)
	}
	cmd = append(cmd, id)
	for i := 0; i <= g.rng.IntN(3); i++ {
		cmd = append(cmd, "f"+strconv.Itoa(i), strconv.Itoa(g.rng.IntN(1000)))
	}
	return cmd
}
