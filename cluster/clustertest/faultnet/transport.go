package faultnet

import (
	"context"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// WrapTransport returns node from's gossip transport: inner (memberlist's
// NetTransport, created by the caller) with the Net's rules applied to its
// packets and streams. Set it as memberlist.Config.Transport; memberlist's
// Shutdown shuts inner down through it.
func (n *Net) WrapTransport(from string, inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
	t := &transport{
		NodeAwareTransport: inner,
		n:                  n,
		from:               from,
		packets:            make(chan *memberlist.Packet),
		stopping:           make(chan struct{}),
		innerDone:          make(chan struct{}),
	}
	n.mu.Lock()
	n.wrapped[from]++
	n.mu.Unlock()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.forwardPackets()
	}()
	return t
}

// transport is a memberlist transport seen through the Net. The embedded
// transport answers FinalAdvertiseAddr and StreamCh.
type transport struct {
	memberlist.NodeAwareTransport
	n    *Net
	from string

	packets   chan *memberlist.Packet // PacketCh, after the inbound rules
	stopping  chan struct{}           // closed when Shutdown starts
	innerDone chan struct{}           // closed when inner has shut down

	mu       sync.Mutex // orders wg.Add of delayed packets against Shutdown
	stopped  bool
	wg       sync.WaitGroup
	shutOnce sync.Once
	shutErr  error
}

var _ memberlist.NodeAwareTransport = (*transport)(nil)

// WriteTo sends a packet to addr.
func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends a packet to a.Addr, unless the link to its node
// loses it or holds it back.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	r, l := t.n.ruleTo(t.from, a.Addr)
	if r == nil {
		return t.NodeAwareTransport.WriteToAddress(b, a)
	}
	if r.cut || l.lose(r.drop) {
		l.packetsLost.Add(1)
		return time.Now(), nil // UDP: the sender never knows
	}
	if r.delay > 0 {
		l.packetsDelayed.Add(1)
		b = slices.Clone(b) // memberlist may reuse its buffer
		t.later(r.delay, func() {
			if r := l.rule.Load(); r != nil && r.cut {
				l.packetsLost.Add(1)
				return
			}
			_, _ = t.NodeAwareTransport.WriteToAddress(b, a)
		})
		return time.Now(), nil
	}
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

// later runs f after d from a goroutine that Shutdown waits for (or
// abandons f, if Shutdown comes first).
func (t *transport) later(d time.Duration, f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
			f()
		case <-t.stopping:
		}
	}()
}

// PacketCh returns the packets that reached this node.
func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// forwardPackets passes inner's packets on to PacketCh, until inner has
// shut down. While Shutdown runs it drains inner without forwarding, so
// inner's listener never blocks on a packet nobody takes.
func (t *transport) forwardPackets() {
	in := t.NodeAwareTransport.PacketCh()
	for {
		select {
		case p := <-in:
			t.inbound(p)
		case <-t.innerDone:
			return
		}
	}
}

// inbound applies the link from the packet's sender, when the sender's
// own wrapper did not (its gossip does not go through this Net).
func (t *transport) inbound(p *memberlist.Packet) {
	if t.n.ruled.Load() != 0 && p.From != nil {
		if r, l := t.n.ruleFrom(p.From.String(), t.from); r != nil {
			if r.cut || l.lose(r.drop) {
				l.packetsLost.Add(1)
				return
			}
			if r.delay > 0 {
				l.packetsDelayed.Add(1)
				t.later(r.delay, func() { t.deliver(p) })
				return
			}
		}
	}
	t.deliver(p)
}

func (t *transport) deliver(p *memberlist.Packet) {
	select {
	case t.packets <- p:
	case <-t.stopping:
	}
}

// DialTimeout opens a stream to addr.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a stream to a.Addr like Net.Dial: across a cut
// it blocks until the link opens or timeout passes.
func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return t.n.dial(ctx, t.from, "tcp", a.Addr, func(ctx context.Context) (net.Conn, error) {
		left := time.Duration(0)
		if d, ok := ctx.Deadline(); ok {
			if left = time.Until(d); left <= 0 {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: strAddr{"tcp", a.Addr}, Err: context.DeadlineExceeded}
			}
		}
		return t.NodeAwareTransport.DialAddressTimeout(a, left)
	})
}

// Shutdown shuts inner down and stops the wrapper's goroutines.
func (t *transport) Shutdown() error {
	t.shutOnce.Do(func() {
		t.mu.Lock()
		t.stopped = true
		close(t.stopping)
		t.mu.Unlock()
		t.shutErr = t.NodeAwareTransport.Shutdown()
		close(t.innerDone)
		t.wg.Wait()
		t.n.mu.Lock()
		if t.n.wrapped[t.from]--; t.n.wrapped[t.from] <= 0 {
			delete(t.n.wrapped, t.from)
		}
		t.n.mu.Unlock()
	})
	return t.shutErr
}

// ruleTo returns the rule on the link from `from` to the node owning addr,
// and that link; nil when addr is unregistered or the link has no rule.
func (n *Net) ruleTo(from, addr string) (*rule, *link) {
	if n.ruled.Load() == 0 {
		return nil, nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	to, ok := n.owner[normAddr(addr)]
	if !ok || to == from {
		return nil, nil
	}
	l, ok := n.links[Link{from, to}]
	if !ok {
		return nil, nil
	}
	return l.rule.Load(), l
}

// ruleFrom returns the rule on the link from the node owning addr to
// `to`, and that link, for traffic the sender's end did not fault: nil when
// addr is unregistered, its node's gossip goes through a wrapper of this
// Net (which faulted it on the way out), or the link has no rule.
func (n *Net) ruleFrom(addr, to string) (*rule, *link) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	from, ok := n.owner[normAddr(addr)]
	if !ok || from == to || n.wrapped[from] > 0 {
		return nil, nil
	}
	l, ok := n.links[Link{from, to}]
	if !ok {
		return nil, nil
	}
	return l.rule.Load(), l
}
