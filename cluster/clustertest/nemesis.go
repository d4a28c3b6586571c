package clustertest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// Fault is a kind of fault the nemesis injects into a running cluster.
type Fault string

// The faults. Each is applied to one node or link set chosen by the run's
// seeded random source, held for a while, and healed before the next.
const (
	FaultKill      Fault = "kill"      // kill -9 a node (a shard leader preferred), restart it
	FaultIsolate   Fault = "isolate"   // cut a shard leader off from every node, both ways
	FaultPartition Fault = "partition" // split the nodes into a majority and a minority
	FaultOneWay    Fault = "oneway"    // a leader's messages are lost, or the others' to it
	FaultBridge    Fault = "bridge"    // two nodes cannot talk, both talk to the third
	FaultDelay     Fault = "delay"     // every link of a node slowed down
	FaultClock     Fault = "clock"     // a node's wall clock jumps forwards or backwards
	FaultDisk      Fault = "disk"      // a node's disk fails (fsync EIO, or full: ENOSPC)
	FaultWipe      Fault = "wipe"      // a node loses its disk and comes back empty
	FaultTorn      Fault = "torn"      // a node is killed and its last log write torn
	// FaultPowerLoss cuts the power of every node at once: what a node had
	// not synced to its disk is gone (needs WithMemDisk). Not in AllFaults:
	// a run chooses it with the disk's sync mode it wants to show.
	FaultPowerLoss Fault = "powerloss"
)

// AllFaults is every fault the in-process nemesis knows.
var AllFaults = []Fault{FaultKill, FaultIsolate, FaultPartition, FaultOneWay, FaultBridge, FaultDelay,
	FaultClock, FaultDisk, FaultWipe, FaultTorn}

// nemesis injects faults one at a time.
type nemesis struct {
	c      *Cluster
	rng    *rand.Rand
	faults []Fault
	counts map[Fault]int
	log    func(format string, args ...any)
}

// step applies one random fault, holds it for a random while (or until
// stop), and heals it. It waits for the cluster to serve again first, so
// faults do not pile up beyond a minority.
func (m *nemesis) step(stop <-chan struct{}) {
	m.waitServing(stop)
	gap := time.NewTimer(time.Duration(300+m.rng.IntN(1200)) * time.Millisecond) // the workloads run unfaulted a while
	select {
	case <-gap.C:
	case <-stop:
		gap.Stop()
		return
	}
	f := m.faults[m.rng.IntN(len(m.faults))]
	hold := time.Duration(500+m.rng.IntN(2500)) * time.Millisecond
	heal := m.apply(f)
	if heal == nil {
		return
	}
	m.counts[f]++
	t := time.NewTimer(hold)
	select {
	case <-t.C:
	case <-stop:
		t.Stop()
	}
	heal()
}

// waitServing waits (at most Timeout) until every node runs and is ready.
func (m *nemesis) waitServing(stop <-chan struct{}) {
	deadline := time.Now().Add(Timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		ready := len(m.c.Running()) == len(m.c.Nodes())
		for _, nd := range m.c.Running() {
			ready = ready && nd.Srv.Node().Ready()
		}
		if ready {
			return
		}
		select {
		case <-tick.C:
		case <-stop:
			return
		}
	}
}

// apply starts fault f and returns what heals it; nil when it could not
// be applied now.
func (m *nemesis) apply(f Fault) (heal func()) {
	c := m.c
	nodes := c.Running()
	if len(nodes) < 3 {
		return nil
	}
	pick := func() *Node { return nodes[m.rng.IntN(len(nodes))] }
	leader := m.leader(nodes)
	ids := IDs(nodes)
	switch f {
	case FaultKill:
		nd := leader
		c.Kill(nd)
		m.log("kill %s", nd.ID)
		return func() { c.Restart(nd, false) }
	case FaultIsolate:
		c.Net.Isolate(leader.ID)
		m.log("isolate %s", leader.ID)
		return c.Net.Heal
	case FaultPartition:
		minority := pick().ID
		rest := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == minority })
		c.Net.Partition([]string{minority}, rest)
		m.log("partition %v | %v", []string{minority}, rest)
		return c.Net.Heal
	case FaultOneWay:
		for _, id := range ids {
			if id == leader.ID {
				continue
			}
			if m.rng.IntN(2) == 0 {
				c.Net.Cut(leader.ID, id)
			} else {
				c.Net.Cut(id, leader.ID)
			}
		}
		m.log("one-way cuts around %s", leader.ID)
		return c.Net.Heal
	case FaultBridge:
		perm := m.rng.Perm(len(ids))
		a, b := ids[perm[0]], ids[perm[1]]
		c.Net.CutBoth(a, b)
		m.log("bridge: %s and %s cut, both reach the others", a, b)
		return c.Net.Heal
	case FaultDelay:
		nd := pick()
		d := time.Duration(10+m.rng.IntN(90)) * time.Millisecond
		for _, id := range ids {
			if id != nd.ID {
				c.Net.Delay(nd.ID, id, d)
				c.Net.Delay(id, nd.ID, d)
			}
		}
		m.log("delay %s's links by %v", nd.ID, d)
		return c.Net.Heal
	case FaultClock:
		nd := pick()
		d := time.Duration(1+m.rng.IntN(60)) * time.Second
		if m.rng.IntN(2) == 0 {
			d = -d
		}
		nd.Clock.Jump(d)
		m.log("%s's clock jumps %v", nd.ID, d)
		return func() { nd.Clock.Jump(-d) }
	case FaultDisk:
		nd := pick()
		err := syscall.EIO
		if m.rng.IntN(2) == 0 {
			err = syscall.ENOSPC
		}
		nd.FailDisk(err)
		m.log("%s's disk fails: %v", nd.ID, err)
		return func() { nd.FailDisk(nil) }
	case FaultWipe:
		nd := pick()
		c.Kill(nd)
		c.Wipe(nd)
		m.log("%s loses its disk", nd.ID)
		return func() { c.Restart(nd, false) }
	case FaultPowerLoss:
		if c.memDisk == nil {
			return nil
		}
		for _, nd := range nodes {
			c.Kill(nd)
		}
		for _, nd := range nodes {
			c.PowerLoss(nd)
		}
		m.log("power loss of every node")
		return func() {
			for _, nd := range nodes {
				nd.Cfg.BootstrapExpect = 1
			}
			c.StartAll()
		}
	case FaultTorn:
		nd := pick()
		c.Kill(nd)
		if c.memDisk == nil {
			m.tear(nd)
		}
		m.log("%s killed with its last write torn", nd.ID)
		return func() { c.Restart(nd, false) }
	}
	return nil
}

// leader is the node that leads the most shards (ties: the first).
func (m *nemesis) leader(nodes []*Node) *Node {
	best, most := nodes[0], -1
	for _, nd := range nodes {
		n := 0
		for _, s := range nd.Srv.Node().Status().Shards {
			if s.Leader {
				n++
			}
		}
		if n > most {
			best, most = nd, n
		}
	}
	return best
}

// tear cuts the tail off one of a stopped node's log files, as a power
// cut in the middle of a write would leave it.
func (m *nemesis) tear(nd *Node) {
	files, _ := filepath.Glob(filepath.Join(nd.Cfg.DataDir, "shards", "*", "raft.db"))
	if len(files) == 0 {
		return
	}
	f := files[m.rng.IntN(len(files))]
	fi, err := os.Stat(f)
	if err != nil || fi.Size() < 8192 {
		return
	}
	cut := int64(1 + m.rng.IntN(4096))
	if err := os.Truncate(f, fi.Size()-cut); err != nil {
		m.log("tear %s: %v", f, err)
	}
}

// summary is the counts of faults applied, e.g. "kill:2 isolate:1".
func (m *nemesis) summary() (int, string) {
	total, s := 0, ""
	for _, f := range append(AllFaults, FaultPowerLoss) {
		if n := m.counts[f]; n > 0 {
			total += n
			s += fmt.Sprintf(" %s:%d", f, n)
		}
	}
	if s == "" {
		return 0, "none"
	}
	return total, s[1:]
}
