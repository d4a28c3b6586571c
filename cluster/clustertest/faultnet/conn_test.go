package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// pair is two nodes, a and b, each with an echo server on its address.
type pair struct {
	n      *Net
	server map[string]*echoServer
}

func newPair(t *testing.T) pair {
	t.Helper()
	p := pair{n: New(1), server: map[string]*echoServer{"a": startEcho(t), "b": startEcho(t)}}
	for node, s := range p.server {
		p.n.Register(node, s.addr)
	}
	return p
}

// other is the peer of a node of the pair.
func other(node string) string {
	if node == "a" {
		return "b"
	}
	return "a"
}

func TestDial(t *testing.T) {
	// blockedFor is the dial timeout of a dial expected to block: short,
	// since the test waits it out.
	const blockedFor = 100 * time.Millisecond
	tests := []struct {
		name        string
		rules       func(n *Net)
		from, to    string // to "" dials an address no node registered
		wantBlocked bool
	}{
		{"no rule", func(*Net) {}, "a", "b", false},
		{"cut a->b, a dials b", func(n *Net) { n.Cut("a", "b") }, "a", "b", true},
		{"cut a->b, b dials a", func(n *Net) { n.Cut("a", "b") }, "b", "a", false},
		{"cut both, b dials a", func(n *Net) { n.CutBoth("a", "b") }, "b", "a", true},
		{"isolate a, b dials a", func(n *Net) { n.Isolate("a") }, "b", "a", true},
		{"partition, a dials b", func(n *Net) { n.Partition([]string{"a"}, []string{"b"}) }, "a", "b", true},
		{"isolate a, a dials an unregistered address", func(n *Net) { n.Isolate("a") }, "a", "", false},
		{"drop a->b: dials are never dropped", func(n *Net) { n.Drop("a", "b", 1) }, "a", "b", false},
		{"healed", func(n *Net) { n.Isolate("a"); n.Heal() }, "a", "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			srv := startEcho(t) // registered to no node
			if tt.to != "" {
				srv = p.server[tt.to]
			}
			addr := srv.addr
			tt.rules(p.n)
			ctx, cancel := context.WithTimeout(context.Background(), blockedFor)
			defer cancel()
			start := time.Now()
			c, err := p.n.Dial(tt.from)(ctx, "tcp", addr)
			if !tt.wantBlocked {
				if err != nil {
					t.Fatalf("Dial(%q)(%s) error: %v; want a connection", tt.from, addr, err)
				}
				defer c.Close()
				waitFor(t, ioTimeout, "the server to accept", func() bool { return srv.accepted() == 1 })
				return
			}
			if err == nil {
				c.Close()
				t.Fatalf("Dial(%q)(%s) connected; want it blocked until the timeout", tt.from, addr)
			}
			if !errors.Is(err, ErrCut) || !errors.Is(err, context.DeadlineExceeded) || !isTimeout(err) {
				t.Errorf("Dial error = %v; want a timeout wrapping ErrCut and context.DeadlineExceeded", err)
			}
			if elapsed := time.Since(start); elapsed < blockedFor {
				t.Errorf("Dial failed after %v; want it blocked for the whole %v", elapsed, blockedFor)
			}
			if got := p.n.Stats().Links[Link{tt.from, other(tt.from)}].Refused; got != 1 {
				t.Errorf("Stats Refused = %d; want 1", got)
			}
		})
	}
}

func TestHealLetsABlockedDialThrough(t *testing.T) {
	p := newPair(t)
	p.n.Cut("a", "b")
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*ioTimeout)
		defer cancel()
		c, err := p.n.Dial("a")(ctx, "tcp", p.server["b"].addr)
		done <- result{c, err}
	}()
	p.n.Heal()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Dial across a healed cut error: %v; want a connection", r.err)
		}
		defer r.c.Close()
		roundTrip(t, r.c, "hello")
	case <-time.After(ioTimeout):
		t.Fatalf("Dial still blocked %v after Heal; want it through", ioTimeout)
	}
}

// TestCutOpenConn cuts links under a connection that already works: bytes
// that meet a cut are blackholed, the other direction keeps flowing, and
// Heal closes the connection if and only if a cut tainted it.
func TestCutOpenConn(t *testing.T) {
	tests := []struct {
		name          string
		cut           func(n *Net)
		dialer        string // dials the other node's echo server
		wantDelivered bool   // the request reaches the server
		wantEcho      bool   // the echo reaches the dialer
	}{
		{"no rule", func(*Net) {}, "a", true, true},
		{"cut a->b, a's conn", func(n *Net) { n.Cut("a", "b") }, "a", false, false},
		{"cut a->b, b's conn", func(n *Net) { n.Cut("a", "b") }, "b", true, false},
		{"cut b->a, a's conn", func(n *Net) { n.Cut("b", "a") }, "a", true, false},
		{"cut b->a, b's conn", func(n *Net) { n.Cut("b", "a") }, "b", false, false},
		{"cut both, a's conn", func(n *Net) { n.CutBoth("a", "b") }, "a", false, false},
		{"isolate a, b's conn", func(n *Net) { n.Isolate("a") }, "b", false, false},
		{"delay only", func(n *Net) { n.Delay("a", "b", time.Millisecond) }, "a", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			peer := other(tt.dialer)
			srv := p.server[peer]
			c := dialT(t, p.n, tt.dialer, srv.addr)
			roundTrip(t, c, "hello")

			tt.cut(p.n)
			if n, err := c.Write([]byte("ping")); n != 4 || err != nil {
				t.Fatalf("Write(ping) across the cut = %d, %v; want 4, nil (a blackhole looks like success)", n, err)
			}
			if tt.wantDelivered {
				waitFor(t, ioTimeout, "the server to get ping", func() bool {
					got, _, _ := srv.conn(0)
					return got == "helloping"
				})
			}
			switch {
			case tt.wantEcho:
				if got, err := readFor(c, 4, ioTimeout); got != "ping" || err != nil {
					t.Fatalf("echo = %q, %v; want ping, nil", got, err)
				}
			case tt.wantDelivered:
				// The echo comes back across the cut: each read sees
				// silence while the Net throws the echo away.
				echoLink := Link{peer, tt.dialer}
				waitFor(t, ioTimeout, "the echo to be blackholed", func() bool {
					got, err := readFor(c, 4, quiet)
					if got != "" || !isTimeout(err) {
						t.Fatalf("read across the cut = %q, %v; want nothing, a timeout", got, err)
					}
					return p.n.Stats().Links[echoLink].BytesLost == 4
				})
			default:
				if got, err := readFor(c, 4, quiet); got != "" || !isTimeout(err) {
					t.Fatalf("read with the request blackholed = %q, %v; want nothing, a timeout", got, err)
				}
			}

			p.n.Heal()
			tainted := !tt.wantDelivered || !tt.wantEcho
			if !tainted {
				roundTrip(t, c, "after")
			} else {
				if got, err := readFor(c, 1, ioTimeout); got != "" || err == nil || isTimeout(err) {
					t.Fatalf("read after Heal = %q, %v; want a closed-connection error", got, err)
				}
				wantGot := "hello"
				if tt.wantDelivered {
					wantGot = "helloping"
				}
				waitFor(t, ioTimeout, "the server to see the connection end", func() bool {
					_, done, _ := srv.conn(0)
					return done
				})
				if got, _, _ := srv.conn(0); got != wantGot {
					t.Errorf("server received %q; want %q (no blackholed byte may arrive after Heal)", got, wantGot)
				}
			}
			var wantKilled int64
			if tainted {
				wantKilled = 1
			}
			if got := p.n.Stats().Links[Link{tt.dialer, peer}].Killed; got != wantKilled {
				t.Errorf("Stats Killed = %d; want %d", got, wantKilled)
			}
			for _, from := range []string{"a", "b"} {
				roundTrip(t, dialT(t, p.n, from, p.server[other(from)].addr), "new")
			}
		})
	}
}

func TestDelayKeepsOrder(t *testing.T) {
	const (
		there, back = 20 * time.Millisecond, 10 * time.Millisecond
		messages    = 10
	)
	p := newPair(t)
	p.n.Delay("a", "b", there)
	p.n.Delay("b", "a", back)
	start := time.Now()
	c := dialT(t, p.n, "a", p.server["b"].addr)
	if elapsed := time.Since(start); elapsed < there+back {
		t.Errorf("Dial took %v; want at least one round trip, %v", elapsed, there+back)
	}

	var want strings.Builder
	for i := range messages {
		fmt.Fprintf(&want, "msg-%02d;", i)
	}
	errc := make(chan error, 1)
	start = time.Now()
	go func() {
		for i := range messages {
			if _, err := fmt.Fprintf(c, "msg-%02d;", i); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	first, err := readFor(c, 1, ioTimeout)
	if err != nil {
		t.Fatalf("read of the first byte error: %v", err)
	}
	if elapsed := time.Since(start); elapsed < there+back {
		t.Errorf("first echo came after %v; want at least %v", elapsed, there+back)
	}
	rest, err := readFor(c, want.Len()-1, ioTimeout)
	if err != nil {
		t.Fatalf("read of the echoes error: %v", err)
	}
	if got := first + rest; got != want.String() {
		t.Errorf("echoes = %q; want %q, in order", got, want.String())
	}
	if err := <-errc; err != nil {
		t.Fatalf("write error: %v", err)
	}
	if elapsed, min := time.Since(start), messages*there; elapsed < min {
		t.Errorf("%d delayed writes took %v; want at least %v", messages, elapsed, min)
	}
}

// TestDelayedReadHonoursDeadline: a chunk held by a delay is not handed to
// a read whose deadline passes first, and a later read still gets it.
func TestDelayedReadHonoursDeadline(t *testing.T) {
	const back = 300 * time.Millisecond
	p := newPair(t)
	c := dialT(t, p.n, "a", p.server["b"].addr)
	p.n.Delay("b", "a", back)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatalf("Write error: %v", err)
	}
	start := time.Now()
	if got, err := readFor(c, 1, back/10); got != "" || !isTimeout(err) {
		t.Fatalf("read with a deadline before the delay = %q, %v; want nothing, a timeout", got, err)
	}
	if elapsed := time.Since(start); elapsed >= back {
		t.Errorf("read timed out after %v; want before the %v delay ends", elapsed, back)
	}
	if got, err := readFor(c, 1, ioTimeout); got != "x" || err != nil {
		t.Fatalf("next read = %q, %v; want x, nil", got, err)
	}
}

func TestDropResetsConnection(t *testing.T) {
	tests := []struct {
		name     string
		from, to string // the dropping link
	}{
		{"on a's writes", "a", "b"},
		{"on a's reads", "b", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			c := dialT(t, p.n, "a", p.server["b"].addr)
			roundTrip(t, c, "hello")
			p.n.Drop(tt.from, tt.to, 1)
			_, err := c.Write([]byte("ping"))
			if err == nil {
				_, err = readFor(c, 4, ioTimeout)
			}
			if !errors.Is(err, ErrReset) {
				t.Fatalf("I/O with Drop(%q, %q, 1) error = %v; want ErrReset", tt.from, tt.to, err)
			}
			if got, err := readFor(c, 1, ioTimeout); err == nil || isTimeout(err) {
				t.Fatalf("read after the reset = %q, %v; want a closed-connection error", got, err)
			}
			waitFor(t, ioTimeout, "the server to see the reset", func() bool {
				_, done, _ := p.server["b"].conn(0)
				return done
			})
			s := p.n.Stats()
			if got := s.Links[Link{"a", "b"}].Killed; got != 1 {
				t.Errorf("Stats Killed = %d; want 1", got)
			}
			if s.Open != 0 {
				t.Errorf("Stats Open = %d; want 0", s.Open)
			}
		})
	}
}

func TestStatsCountConnections(t *testing.T) {
	p := newPair(t)
	c1 := dialT(t, p.n, "a", p.server["b"].addr)
	dialT(t, p.n, "a", p.server["b"].addr)
	if err := c1.Close(); err != nil {
		t.Fatalf("Close error: %v", err)
	}
	s := p.n.Stats()
	want := LinkStats{Dials: 2, Closed: 1}
	if got := s.Links[Link{"a", "b"}]; got != want {
		t.Errorf("Stats a->b = %+v; want %+v", got, want)
	}
	if s.Open != 1 {
		t.Errorf("Stats Open = %d; want 1", s.Open)
	}
}
