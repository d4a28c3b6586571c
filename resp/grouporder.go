package resp

import (
	"slices"
	"sync"
)

// groupOrder makes blocked XREADGROUP clients retry in the order they
// blocked, as Redis serves the clients blocked on a key first come, first
// served: when one XADD wakes two consumers of a group, the one that
// blocked first gets the entry and the other keeps waiting.
//
// Woken goroutines race, so ordering is enforced at retry time: a woken
// client first asks every earlier client blocked on one of its keys to
// retry (it pokes them) and waits until none of those still owes or is
// running a retry. A poked client retries even if its own signal has not
// arrived yet; a retry that finds nothing costs a read, never a log entry
// (conn.tryRead). The state is under one mutex: the number of clients
// blocked in XREADGROUP at once is small next to the cost of a retry.
type groupOrder struct {
	mu      sync.Mutex
	changed *sync.Cond
	seq     uint64
	waiters []*groupWaiter // in blocking order
}

// groupWaiter is one blocked XREADGROUP client.
type groupWaiter struct {
	seq  uint64
	keys []string
	poke chan struct{} // buffered(1): a later client asks for a retry
	owed bool          // poked and not yet retrying
	busy bool          // retrying now
}

func newGroupOrder() *groupOrder {
	o := &groupOrder{}
	o.changed = sync.NewCond(&o.mu)
	return o
}

// add registers a client that starts waiting on keys.
func (o *groupOrder) add(keys []string) *groupWaiter {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	w := &groupWaiter{seq: o.seq, keys: keys, poke: make(chan struct{}, 1)}
	o.waiters = append(o.waiters, w)
	return w
}

// remove forgets a client that stopped waiting (served, timed out, gone).
func (o *groupOrder) remove(w *groupWaiter) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i := slices.Index(o.waiters, w); i >= 0 {
		o.waiters = slices.Delete(o.waiters, i, i+1)
	}
	o.changed.Broadcast()
}

// turn returns when w may retry: every earlier client sharing a key with
// w has been poked and has finished its retry (or stopped waiting).
func (o *groupOrder) turn(w *groupWaiter) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.earlier(w) {
		if !e.owed && !e.busy {
			e.owed = true
			select {
			case e.poke <- struct{}{}:
			default:
			}
		}
	}
	for slices.ContainsFunc(o.earlier(w), func(e *groupWaiter) bool { return e.owed || e.busy }) {
		o.changed.Wait()
	}
	w.owed, w.busy = false, true
}

// done ends w's retry.
func (o *groupOrder) done(w *groupWaiter) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w.busy = false
	o.changed.Broadcast()
}

// earlier lists the clients that blocked before w on one of its keys.
func (o *groupOrder) earlier(w *groupWaiter) []*groupWaiter {
	var out []*groupWaiter
	for _, e := range o.waiters {
		if e.seq >= w.seq {
			break
		}
		if slices.ContainsFunc(e.keys, func(k string) bool { return slices.Contains(w.keys, k) }) {
			out = append(out, e)
		}
	}
	return out
}

// pokes is w's poke channel; nil (never ready) for a nil w.
func (w *groupWaiter) pokes() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.poke
}
