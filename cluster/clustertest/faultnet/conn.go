package faultnet

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Dial returns the function node `from` dials its peers with (Raft, the
// node RPC). A connection to an address no node registered, or to from's
// own, is a plain socket.
func (n *Net) Dial(from string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		return n.dial(ctx, from, network, addr, func(ctx context.Context) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		})
	}
}

// dial waits until from -> (the owner of addr) is open, then dials with
// inner and wraps the connection.
func (n *Net) dial(ctx context.Context, from, network, addr string, inner func(context.Context) (net.Conn, error)) (net.Conn, error) {
	to, ok := n.nodeOf(addr)
	if !ok || to == from {
		return inner(ctx)
	}
	out, in := n.link(from, to), n.link(to, from)
	for {
		changed := n.changes() // before the load, so no change is missed
		r := out.rule.Load()
		if r == nil || !r.cut {
			break
		}
		select {
		case <-ctx.Done():
			out.refused.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Addr: strAddr{network, addr}, Err: &cutError{ctx.Err()}}
		case <-changed:
		}
	}
	if rtt := delayOf(out) + delayOf(in); rtt > 0 {
		t := time.NewTimer(rtt)
		select {
		case <-ctx.Done():
			t.Stop()
			out.refused.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Addr: strAddr{network, addr}, Err: ctx.Err()}
		case <-t.C:
		}
	}
	raw, err := inner(ctx)
	if err != nil {
		return nil, err
	}
	c := &conn{Conn: raw, n: n, out: out, in: in, closed: make(chan struct{}), kickR: make(chan struct{}, 1), kickW: make(chan struct{}, 1)}
	n.mu.Lock()
	n.conns[c] = struct{}{}
	n.mu.Unlock()
	out.dials.Add(1)
	return c, nil
}

func delayOf(l *link) time.Duration {
	if r := l.rule.Load(); r != nil {
		return r.delay
	}
	return 0
}

// cutError is a dial's failure across a cut: it wraps ErrCut and the
// context's error, and is a timeout when the context's deadline passed.
type cutError struct{ ctxErr error }

func (e *cutError) Error() string   { return ErrCut.Error() + ": " + e.ctxErr.Error() }
func (e *cutError) Unwrap() []error { return []error{ErrCut, e.ctxErr} }
func (e *cutError) Timeout() bool   { return errors.Is(e.ctxErr, context.DeadlineExceeded) }
func (e *cutError) Temporary() bool { return true }

type strAddr struct{ network, addr string }

func (a strAddr) Network() string { return a.network }
func (a strAddr) String() string  { return a.addr }

// conn is one end of a connection a node dialed through the Net: its
// writes cross link out, its reads cross link in.
type conn struct {
	net.Conn
	n       *Net
	out, in *link

	// outDead and inDead taint a direction for good once a byte was
	// blackholed on it, so the stream never resumes with a hole in it.
	outDead, inDead atomic.Bool

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error

	// Deadlines as set by the application (unix nanoseconds, 0 for none),
	// for the waits of a delay; kickR and kickW wake those waits when
	// they change.
	rdl, wdl     atomic.Int64
	kickR, kickW chan struct{}

	// Read's held chunk (a delay): delivered at pendingAt, then
	// pendingErr. hasPending lets Read's fast path skip rmu.
	rmu        sync.Mutex
	pending    []byte
	pendingAt  time.Time
	pendingErr error
	hasPending atomic.Bool
}

func (c *conn) tainted() bool { return c.outDead.Load() || c.inDead.Load() }

// Write sends p across link out.
func (c *conn) Write(p []byte) (int, error) {
	if c.out.rule.Load() == nil && !c.outDead.Load() {
		return c.Conn.Write(p)
	}
	r := c.out.rule.Load()
	if r != nil && r.delay > 0 {
		if err := c.wait(time.Now().Add(r.delay), &c.wdl, c.kickW, "write"); err != nil {
			return 0, err
		}
		r = c.out.rule.Load() // what holds when the bytes arrive
	}
	if c.isClosed() {
		return 0, c.opErr("write", net.ErrClosed)
	}
	if c.outDead.Load() || r != nil && r.cut {
		c.out.bytesLost.Add(int64(len(p)))
		c.taint(&c.outDead, c.out)
		return len(p), nil
	}
	if r != nil && c.out.lose(r.drop) {
		c.kill(true)
		return 0, c.opErr("write", ErrReset)
	}
	return c.Conn.Write(p)
}

// Read receives from link in.
func (c *conn) Read(p []byte) (int, error) {
	if c.in.rule.Load() == nil && !c.inDead.Load() && !c.hasPending.Load() {
		return c.Conn.Read(p)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if len(c.pending) == 0 {
			n, err := c.Conn.Read(p)
			if n == 0 {
				return 0, err
			}
			if r := c.in.rule.Load(); r != nil && r.delay > 0 && !c.inDead.Load() {
				c.pending = append(c.pending[:0], p[:n]...)
				c.pendingAt, c.pendingErr = time.Now().Add(r.delay), err
				c.hasPending.Store(true)
				continue
			}
			if deliver, ferr := c.filterRead(n); !deliver {
				if ferr != nil || err != nil {
					return 0, firstErr(ferr, err)
				}
				continue
			}
			return n, err
		}
		if err := c.wait(c.pendingAt, &c.rdl, c.kickR, "read"); err != nil {
			return 0, err // the chunk stays held for the next Read
		}
		if deliver, ferr := c.filterRead(len(c.pending)); !deliver {
			err := c.pendingErr
			c.dropPending()
			if ferr != nil || err != nil {
				return 0, firstErr(ferr, err)
			}
			continue
		}
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) > 0 {
			return n, nil
		}
		err := c.pendingErr
		c.dropPending()
		return n, err
	}
}

func (c *conn) dropPending() {
	c.pending, c.pendingErr = c.pending[:0], nil
	c.hasPending.Store(false)
}

// filterRead applies link in's rule to n bytes that arrived: false if they
// must not reach the application, with an error if the connection is
// reset.
func (c *conn) filterRead(n int) (bool, error) {
	r := c.in.rule.Load()
	if c.inDead.Load() || r != nil && r.cut {
		c.in.bytesLost.Add(int64(n))
		c.taint(&c.inDead, c.in)
		return false, nil
	}
	if r != nil && c.in.lose(r.drop) {
		c.kill(true)
		return false, c.opErr("read", ErrReset)
	}
	return true, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// taint marks a direction dead after it blackholed bytes. If Heal has
// cleared the cut meanwhile, it may have missed this connection: close it
// here instead.
func (c *conn) taint(dead *atomic.Bool, l *link) {
	dead.Store(true)
	if r := l.rule.Load(); r == nil || !r.cut {
		c.kill(false)
	}
}

// wait blocks until t, the deadline in dl, or Close, whichever is first.
func (c *conn) wait(t time.Time, dl *atomic.Int64, kick chan struct{}, op string) error {
	for {
		until, timeout := t, false
		if d := dl.Load(); d != 0 && d < t.UnixNano() {
			until, timeout = time.Unix(0, d), true
		}
		left := time.Until(until)
		if left <= 0 {
			if timeout {
				return c.opErr(op, os.ErrDeadlineExceeded)
			}
			return nil
		}
		tm := time.NewTimer(left)
		select {
		case <-tm.C:
		case <-kick: // the deadline moved: look again
			tm.Stop()
		case <-c.closed:
			tm.Stop()
			return c.opErr(op, net.ErrClosed)
		}
	}
}

func (c *conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

func (c *conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Close closes the connection.
func (c *conn) Close() error {
	c.close(false, false)
	return c.closeErr
}

// kill is the Net closing the connection: with reset, the peer gets an
// RST instead of a FIN.
func (c *conn) kill(reset bool) { c.close(true, reset) }

func (c *conn) close(byNet, reset bool) {
	c.closeOnce.Do(func() {
		if reset {
			if tc, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
				_ = tc.SetLinger(0)
			}
		}
		close(c.closed)
		c.closeErr = c.Conn.Close()
		c.n.mu.Lock()
		delete(c.n.conns, c)
		c.n.mu.Unlock()
		c.out.closed.Add(1)
		if byNet {
			c.out.killed.Add(1)
		}
	})
}

// SetDeadline sets both deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	storeDeadline(&c.rdl, c.kickR, t)
	storeDeadline(&c.wdl, c.kickW, t)
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (c *conn) SetReadDeadline(t time.Time) error {
	storeDeadline(&c.rdl, c.kickR, t)
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline.
func (c *conn) SetWriteDeadline(t time.Time) error {
	storeDeadline(&c.wdl, c.kickW, t)
	return c.Conn.SetWriteDeadline(t)
}

func storeDeadline(dl *atomic.Int64, kick chan struct{}, t time.Time) {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	dl.Store(d)
	select {
	case kick <- struct{}{}:
	default:
	}
}
