package faultnet

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrCut is wrapped by the error of a dial that gave up across a cut link.
var ErrCut = errors.New("faultnet: link cut")

// ErrReset is wrapped by the error of a read or write that a Drop rule
// turned into a connection reset.
var ErrReset = errors.New("faultnet: connection reset by drop rule")

// Net is the network between the nodes of one test cluster. It is safe for
// concurrent use; the zero value is not usable, call New.
type Net struct {
	seed int64

	mu      sync.RWMutex
	owner   map[string]string   // normalized address -> node
	addrs   map[string][]string // node -> its normalized addresses
	links   map[Link]*link
	conns   map[*conn]struct{} // open connections dialed through the Net
	wrapped map[string]int     // node -> live transports wrapped for it
	changed chan struct{}      // closed and replaced whenever rules change

	// ruled counts links with a rule: 0 lets packets skip every lookup.
	ruled atomic.Int64
}

// New returns a Net with no nodes and no rules. seed drives the random
// losses of Drop, so a run can be replayed.
func New(seed int64) *Net {
	return &Net{
		seed:    seed,
		owner:   make(map[string]string),
		addrs:   make(map[string][]string),
		links:   make(map[Link]*link),
		conns:   make(map[*conn]struct{}),
		wrapped: make(map[string]int),
		changed: make(chan struct{}),
	}
}

// Link is the direction from one node to another.
type Link struct{ From, To string }

func (l Link) String() string { return l.From + "->" + l.To }

// rule is what happens to traffic on one link. A link without a rule holds
// nil, never a zero rule.
type rule struct {
	cut   bool
	delay time.Duration
	drop  float64
}

// link is one direction's rule, loss generator and counters.
type link struct {
	rule atomic.Pointer[rule]

	rngMu sync.Mutex
	rng   *rand.Rand

	dials, refused, closed, killed atomic.Int64 // connections dialed across the link
	bytesLost                      atomic.Int64 // TCP bytes blackholed on the link
	packetsLost, packetsDelayed    atomic.Int64 // UDP packets on the link
}

// lose draws whether one write or packet is lost with probability p.
func (l *link) lose(p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	l.rngMu.Lock()
	x := l.rng.Float64()
	l.rngMu.Unlock()
	return x < p
}

// normAddr returns the form addresses are registered and looked up in:
// an IP:port in canonical form (IPv4-mapped IPv6 unmapped), anything else
// as given.
func normAddr(s string) string {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return s
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// Register declares the host:port addresses that belong to node (its Raft
// port, its gossip port, ...), replacing any it had: pass them all in one
// call. Call it again with the new ports when a node restarts; an address
// registered to another node moves to this one.
func (n *Net) Register(node string, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range n.addrs[node] {
		if n.owner[a] == node {
			delete(n.owner, a)
		}
	}
	norm := make([]string, 0, len(addrs))
	for _, a := range addrs {
		a = normAddr(a)
		if old, ok := n.owner[a]; ok && old != node {
			n.addrs[old] = slices.DeleteFunc(n.addrs[old], func(x string) bool { return x == a })
		}
		n.owner[a] = node
		norm = append(norm, a)
	}
	n.addrs[node] = norm
}

// nodeOf returns the node addr belongs to.
func (n *Net) nodeOf(addr string) (string, bool) {
	n.mu.RLock()
	node, ok := n.owner[normAddr(addr)]
	n.mu.RUnlock()
	return node, ok
}

// nodes returns the registered nodes, sorted.
func (n *Net) nodes() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.addrs))
	for node := range n.addrs {
		out = append(out, node)
	}
	slices.Sort(out)
	return out
}

// linkLocked returns the link from -> to, creating it; n.mu must be held
// for writing.
func (n *Net) linkLocked(from, to string) *link {
	k := Link{from, to}
	if l, ok := n.links[k]; ok {
		return l
	}
	h := fnv.New64a()
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(to))
	l := &link{rng: rand.New(rand.NewPCG(uint64(n.seed), h.Sum64()))}
	n.links[k] = l
	return l
}

// link returns the link from -> to, creating it.
func (n *Net) link(from, to string) *link {
	n.mu.RLock()
	l, ok := n.links[Link{from, to}]
	n.mu.RUnlock()
	if ok {
		return l
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.linkLocked(from, to)
}

// update changes the rule of each link from -> to for which f is called,
// under one lock, and wakes the dials waiting on a cut.
func (n *Net) update(links []Link, f func(r *rule)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, k := range links {
		if k.From == k.To {
			continue
		}
		l := n.linkLocked(k.From, k.To)
		var r rule
		old := l.rule.Load()
		if old != nil {
			r = *old
		}
		f(&r)
		var next *rule
		if r != (rule{}) {
			next = &r
		}
		l.rule.Store(next)
		switch {
		case old == nil && next != nil:
			n.ruled.Add(1)
		case old != nil && next == nil:
			n.ruled.Add(-1)
		}
	}
	close(n.changed)
	n.changed = make(chan struct{})
}

// changes returns a channel closed at the next rule change.
func (n *Net) changes() <-chan struct{} {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.changed
}

func cut(r *rule) { r.cut = true }

// Cut stops everything from `from` reaching `to`, one way.
func (n *Net) Cut(from, to string) { n.update([]Link{{from, to}}, cut) }

// CutBoth cuts a -> b and b -> a.
func (n *Net) CutBoth(a, b string) { n.update([]Link{{a, b}, {b, a}}, cut) }

// Isolate cuts node off, both ways, from every other registered node.
func (n *Net) Isolate(node string) {
	var links []Link
	for _, other := range n.nodes() {
		links = append(links, Link{node, other}, Link{other, node})
	}
	n.update(links, cut)
}

// Partition splits the nodes into groups: links between nodes of different
// groups are cut both ways. A registered node named in no group is cut off
// from all others. Links inside a group keep the rules they had. A node in
// two groups is a test bug: Partition panics.
func (n *Net) Partition(groups ...[]string) {
	group := make(map[string]int)
	for i, g := range groups {
		for _, node := range g {
			if j, dup := group[node]; dup {
				panic(fmt.Sprintf("faultnet: Partition: node %q in groups %d and %d", node, j, i))
			}
			group[node] = i
		}
	}
	all := n.nodes()
	for node := range group {
		if !slices.Contains(all, node) {
			all = append(all, node)
		}
	}
	ungrouped := len(groups)
	groupOf := func(node string) int {
		if g, ok := group[node]; ok {
			return g
		}
		ungrouped++ // each ungrouped node is a group of its own
		return ungrouped
	}
	gid := make(map[string]int, len(all))
	for _, node := range all {
		gid[node] = groupOf(node)
	}
	var links []Link
	for _, a := range all {
		for _, b := range all {
			if gid[a] != gid[b] {
				links = append(links, Link{a, b})
			}
		}
	}
	n.update(links, cut)
}

// Delay makes each write from `from` to `to` arrive d later (see the
// package comment for the model); 0 removes the delay.
func (n *Net) Delay(from, to string, d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("faultnet: Delay(%q, %q, %v): negative delay", from, to, d))
	}
	n.update([]Link{{from, to}}, func(r *rule) { r.delay = d })
}

// Drop loses each UDP packet, and resets the connection on each TCP write,
// from `from` to `to` with probability p in [0, 1]; 0 removes the loss.
func (n *Net) Drop(from, to string, p float64) {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("faultnet: Drop(%q, %q, %v): probability outside [0, 1]", from, to, p))
	}
	n.update([]Link{{from, to}}, func(r *rule) { r.drop = p })
}

// Heal clears every rule, closes every connection a cut tainted, and lets
// the dials waiting on a cut through.
func (n *Net) Heal() {
	n.mu.Lock()
	links := make([]Link, 0, len(n.links))
	for k := range n.links {
		links = append(links, k)
	}
	n.mu.Unlock()
	n.update(links, func(r *rule) { *r = rule{} })

	n.mu.RLock()
	var tainted []*conn
	for c := range n.conns {
		if c.tainted() {
			tainted = append(tainted, c)
		}
	}
	n.mu.RUnlock()
	for _, c := range tainted {
		c.kill(false)
	}
}
