package cluster

import (
	"slices"
	"strings"
)

// Rebalance computes where each shard's replicas should be, starting from
// the current placement in s: every shard gets min(s.Replicas, nodes)
// replicas on nodes that are not draining, the replica counts of the nodes
// differ by at most one, and each node is the preferred leader (first in
// the list) of at most ceil(shards/nodes) shards. It changes as little as
// it can: only shards for which settled returns true (nil: all) may change
// their replica set, at most maxMoves of them; the others keep theirs until
// a later call (a replica move is done one shard at a time: add a voter,
// let it catch up, remove the old one). The result is deterministic: ties
// go to the lower node ID.
func Rebalance(s *MetaState, settled func(shard int) bool, maxMoves int) [][]string {
	p := &planner{s: s, settled: settled, moves: maxMoves, load: map[string]int{}}
	for _, n := range s.Nodes {
		if !n.Draining {
			p.eligible = append(p.eligible, n.ID)
			p.load[n.ID] = 0
		}
	}
	p.out = make([][]string, len(s.Groups))
	for i, g := range s.Groups {
		p.out[i] = slices.Clone(g.Replicas)
	}
	if len(p.eligible) == 0 {
		return p.out
	}
	p.r = min(max(s.Replicas, 1), len(p.eligible))
	p.changed = make([]bool, len(p.out))
	for _, reps := range p.out {
		for _, id := range reps {
			if _, ok := p.load[id]; ok {
				p.load[id]++
			}
		}
	}
	for sh := range p.out {
		p.repair(sh)
	}
	p.spread()
	p.chooseLeaders()
	return p.out
}

type planner struct {
	s        *MetaState
	settled  func(int) bool
	moves    int
	eligible []string // sorted (s.Nodes is)
	r        int
	load     map[string]int // replicas per eligible node
	out      [][]string
	changed  []bool
}

// mayChange reports whether shard sh's replica set may change, counting a
// move the first time it does.
func (p *planner) mayChange(sh int) bool {
	if p.changed[sh] {
		return true
	}
	if (p.settled != nil && !p.settled(sh)) || p.moves <= 0 {
		return false
	}
	p.moves--
	p.changed[sh] = true
	return true
}

// repair drops replicas on nodes that may not hold one and brings the
// shard to exactly r replicas.
func (p *planner) repair(sh int) {
	reps := p.out[sh]
	keep := slices.DeleteFunc(slices.Clone(reps), func(id string) bool { _, ok := p.load[id]; return !ok })
	if len(keep) == len(reps) && len(keep) == p.r {
		return
	}
	if !p.mayChange(sh) {
		return
	}
	for len(keep) > p.r {
		i := p.busiest(keep)
		p.load[keep[i]]--
		keep = slices.Delete(keep, i, i+1)
	}
	for len(keep) < p.r {
		id := p.idlest(keep)
		p.load[id]++
		keep = append(keep, id)
	}
	p.out[sh] = keep
}

// busiest is the index in ids of the node with the most replicas (ties:
// the highest ID).
func (p *planner) busiest(ids []string) int {
	best := 0
	for i, id := range ids {
		if l, b := p.load[id], p.load[ids[best]]; l > b || (l == b && id > ids[best]) {
			best = i
		}
	}
	return best
}

// idlest is the eligible node, not in exclude, with the fewest replicas
// (ties: the lowest ID).
func (p *planner) idlest(exclude []string) string {
	best := ""
	for _, id := range p.eligible {
		if slices.Contains(exclude, id) {
			continue
		}
		if best == "" || p.load[id] < p.load[best] {
			best = id
		}
	}
	return best
}

// spread moves replicas from the busiest node to the idlest until their
// counts differ by at most one, or no allowed move is left.
func (p *planner) spread() {
	for {
		hi, lo := p.eligible[0], p.eligible[0]
		for _, id := range p.eligible {
			if p.load[id] > p.load[hi] || (p.load[id] == p.load[hi] && id > hi) {
				hi = id
			}
			if p.load[id] < p.load[lo] {
				lo = id
			}
		}
		if p.load[hi]-p.load[lo] <= 1 || !p.moveOne(hi, lo) {
			return
		}
	}
}

// moveOne hands one replica of from to to, in the first shard that allows
// it; false if none does.
func (p *planner) moveOne(from, to string) bool {
	for sh, reps := range p.out {
		i := slices.Index(reps, from)
		if i < 0 || slices.Contains(reps, to) {
			continue
		}
		if !p.mayChange(sh) {
			continue
		}
		reps[i] = to
		p.load[from]--
		p.load[to]++
		return true
	}
	return false
}

// chooseLeaders puts a preferred leader first in every shard's list: the
// current first where that keeps every node under ceil(shards/nodes),
// otherwise the member preferred by the fewest shards so far.
func (p *planner) chooseLeaders() {
	limit := (len(p.out) + len(p.eligible) - 1) / len(p.eligible)
	count := map[string]int{}
	kept := make([]bool, len(p.out))
	for sh, reps := range p.out {
		if len(reps) == 0 {
			continue
		}
		if _, ok := p.load[reps[0]]; ok && count[reps[0]] < limit {
			count[reps[0]]++
			kept[sh] = true
		}
	}
	for sh, reps := range p.out {
		if kept[sh] || len(reps) == 0 {
			continue
		}
		best := -1
		for i, id := range reps {
			if _, ok := p.load[id]; !ok {
				continue
			}
			if best < 0 || count[id] < count[reps[best]] ||
				(count[id] == count[reps[best]] && strings.Compare(id, reps[best]) < 0) {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		count[reps[best]]++
		reps[0], reps[best] = reps[best], reps[0]
	}
}
